import { InvalidGrantError, InvalidRequestError } from '../errors.js'
import { param } from '../request.js'
import { prepareIssue } from '../tokens/issue.js'
import { refreshTokenJkt } from '../dpop/server.js'
import { resolveRequestedResources } from '../validator/resources.js'
import { parseScopeParam, resolveRequestedScopes } from '../validator/scopes.js'
import type { TokenGrant } from './types.js'

/**
 * RFC 6749 §4.3, the resource-owner password grant. RFC 9700 §2.4 says it MUST NOT be used, so
 * it is off unless `passwordGrantEnabled`; the host checks credentials via `verifyUserCredentials`.
 */
export const passwordGrant: TokenGrant = {
  grantType: 'password',
  parameters: new Set(['grant_type', 'username', 'password', 'scope']),
  applicationTypes: new Set(['password']),
  confidentialOnly: false,
  enabled: (settings) => settings.passwordGrantEnabled,
  async handle (ctx, client, params, info) {
    const username = param(params, 'username')
    const password = param(params, 'password')
    if (username === undefined) throw new InvalidRequestError({ description: 'Request is missing username parameter.' })
    if (password === undefined) throw new InvalidRequestError({ description: 'Request is missing password parameter.' })
    const scopes = resolveRequestedScopes(ctx.settings, parseScopeParam(param(params, 'scope')), client.application)
    const resource = resolveRequestedResources(ctx.settings, info.resources ?? []).join(' ')
    const userId = ctx.verifyUserCredentials === null ? null : await ctx.verifyUserCredentials(username, password)
    if (userId === null) throw new InvalidGrantError({ description: 'Invalid credentials given.', detail: 'password grant: bad credentials' })
    const { issue, tokens } = await prepareIssue(ctx, { application: client.application, userId, scopes, withRefreshToken: true, resource, jkt: info.dpopJkt ?? '', refreshJkt: refreshTokenJkt(client.application, info.dpopJkt ?? '') })
    return { tokens, rows: await ctx.store.issueTokens(issue) }
  },
}
