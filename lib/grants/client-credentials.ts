import { param } from '../request.js'
import { prepareIssue } from '../tokens/issue.js'
import { resolveRequestedResources } from '../validator/resources.js'
import { parseScopeParam, resolveRequestedScopes } from '../validator/scopes.js'
import type { TokenGrant } from './types.js'

/** RFC 6749 §4.4: a confidential client gets an access token for itself; no refresh token (§4.4.3). */
export const clientCredentialsGrant: TokenGrant = {
  grantType: 'client_credentials',
  parameters: new Set(['grant_type', 'scope']),
  applicationTypes: new Set(['client-credentials']),
  confidentialOnly: true,
  enabled: () => true,
  async handle (ctx, client, params, info) {
    const scopes = resolveRequestedScopes(ctx.settings, parseScopeParam(param(params, 'scope')), client.application)
    // RFC 8707 §2.2: audience-restricted to the requested resources.
    const resource = resolveRequestedResources(ctx.settings, info.resources ?? []).join(' ')
    const { issue, tokens } = await prepareIssue(ctx, { application: client.application, userId: null, scopes, withRefreshToken: false, resource, jkt: info.dpopJkt ?? '' })
    return { tokens, rows: await ctx.store.issueTokens(issue) }
  },
}
