import { nowMs } from '../clock.js'
import type { ServerContext } from '../context.js'
import { InvalidClientError, InvalidRequestError } from '../errors.js'
import { param, type OAuthRequest, type Params } from '../request.js'
import type { Application, TokenEndpointAuthMethod } from '../store/types.js'
import { assertionClientId, CLIENT_ASSERTION_TYPE, verifyClientAssertion } from './client-assertion.js'
import { freezeApplication } from './client-cache.js'
import { looksLikeCimdUrl, lookupClient } from '../registration/cimd.js'
import type { ClientAuthEndpoint } from '../event-types.js'
import { listening, notifyClientAuthenticationFailed } from '../events.js'

/** How the client authenticated (RFC 8414 `token_endpoint_auth_methods_supported` names). */
export type ClientAuthMethod = TokenEndpointAuthMethod

/**
 * The one client authentication method an application must use, or `null` when any will do
 * (applications not created by dynamic registration). Derived from the stored RFC 7591
 * `token_endpoint_auth_method` and the client type together, so the two cannot disagree after
 * a management edit: a public client always uses `none`, a confidential one never does.
 */
export function requiredAuthMethod (application: Pick<Application, 'clientType' | 'tokenEndpointAuthMethod'>): ClientAuthMethod | null {
  const stored = application.tokenEndpointAuthMethod
  if (stored === '') return null
  if (application.clientType === 'public') return 'none'
  return stored === 'none' ? 'client_secret_basic' : stored
}

/** An authenticated (or, for public clients, identified) client. */
export interface AuthenticatedClient {
  readonly application: Application
  readonly method: ClientAuthMethod
}

interface PresentedCredentials {
  clientId: string
  secret: string | undefined
  method: ClientAuthMethod
  /** A JWT client assertion (RFC 7523 §2.2), when that is how the client authenticates. */
  assertion?: string
}

/** Parsed `Authorization: Basic` credentials; `null` when the header is not Basic. */
export interface BasicCredentials { clientId: string, secret: string }

/** RFC 6749 §5.2: the challenge of a failed authentication that used `Authorization: Basic`. */
export const BASIC_CHALLENGE: Readonly<Record<string, string>> = { 'www-authenticate': 'Basic realm="oauth"' }

/**
 * The headers of a refusal after the client's credentials were read and accepted as such (a public
 * client where only confidential ones may go): RFC 6749 §5.2's Basic challenge when they came in
 * `Authorization: Basic`, none when they came in the body.
 */
export function challengeIfBasic (req: { readonly headers: { readonly authorization?: string } }): { headers?: Readonly<Record<string, string>> } {
  return /^\s*basic\b/i.test(req.headers.authorization ?? '') ? { headers: BASIC_CHALLENGE } : {}
}

/** Stateless between calls (no streaming), so one decoder serves every request. */
const UTF8 = new TextDecoder('utf-8', { fatal: false })

/**
 * Parses `Authorization: Basic`. RFC 6749 §2.3.1: id and secret are form-urlencoded before
 * base64. A garbled header is a failed authentication (401), never a 500.
 */
export function parseBasicAuth (header: string | undefined): BasicCredentials | null {
  if (header === undefined) return null
  const match = /^basic(?:\s+(.*))?$/i.exec(header.trim())
  if (match === null) return null
  // Built only on failure: an Error captures a stack trace, which valid requests should not pay for.
  const garbled = (): InvalidClientError => new InvalidClientError({ detail: 'malformed Basic authorization header', headers: BASIC_CHALLENGE })
  const encoded = (match[1] ?? '').trim()
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) throw garbled()
  const text = UTF8.decode(Buffer.from(encoded, 'base64'))
  if (text.includes('\uFFFD')) throw garbled()
  const colon = text.indexOf(':')
  if (colon < 0) throw garbled()
  try {
    const clientId = decodeFormComponent(text.slice(0, colon))
    const secret = decodeFormComponent(text.slice(colon + 1))
    if (clientId.length === 0) throw garbled()
    return { clientId, secret }
  } catch {
    throw garbled()
  }
}

function decodeFormComponent (value: string): string {
  // Generated ids and secrets are alphanumeric: nothing to decode.
  if (!value.includes('%') && !value.includes('+')) return value
  return decodeURIComponent(value.replace(/\+/g, ' '))
}

function presentedCredentials (req: OAuthRequest, params: Params): PresentedCredentials | null {
  const basic = parseBasicAuth(req.headers.authorization)
  const bodyId = param(params, 'client_id')
  const bodySecret = params.client_secret
  const assertion = presentedAssertion(req, params)
  // RFC 6749 §2.3: a client MUST NOT use more than one authentication method in a request.
  if ((basic !== null && bodySecret !== undefined) || (assertion !== null && (basic !== null || bodySecret !== undefined))) {
    throw new InvalidRequestError({ description: 'Use only one client authentication method.' })
  }
  if (assertion !== null) {
    const clientId = assertionClientId(assertion)
    // RFC 7521 §4.2: a client_id sent alongside must name the same client.
    if (bodyId !== undefined && bodyId !== clientId) throw new InvalidClientError({ detail: 'client_id in body differs from the client assertion\'s sub' })
    return { clientId, secret: undefined, method: 'private_key_jwt', assertion }
  }
  if (basic !== null) {
    if (bodyId !== undefined && bodyId !== basic.clientId) {
      throw new InvalidClientError({ detail: 'client_id in body differs from Basic credentials', headers: BASIC_CHALLENGE })
    }
    return { clientId: basic.clientId, secret: basic.secret, method: 'client_secret_basic' }
  }
  if (bodyId === undefined) return null
  return { clientId: bodyId, secret: bodySecret, method: bodySecret === undefined || bodySecret === '' ? 'none' : 'client_secret_post' }
}

/** RFC 7521 §4.2: `client_assertion` with its `client_assertion_type`, each once; `null` when neither is sent. */
function presentedAssertion (req: OAuthRequest, params: Params): string | null {
  const type = params.client_assertion_type
  const assertion = params.client_assertion
  if (type === undefined && assertion === undefined) return null
  if (req.duplicated.has('client_assertion') || req.duplicated.has('client_assertion_type')) {
    throw new InvalidRequestError({ description: 'Parameter repeated: client_assertion or client_assertion_type.' })
  }
  if (type === undefined || assertion === undefined || assertion === '') {
    throw new InvalidRequestError({ description: 'client_assertion and client_assertion_type go together.' })
  }
  if (type !== CLIENT_ASSERTION_TYPE) throw new InvalidClientError({ detail: 'unsupported client_assertion_type' })
  return assertion
}

/**
 * RFC 6749 §2.3 / §3.2.1: authenticates a confidential client by its secret, or identifies a
 * public client by its `client_id`. Unknown clients cost the same hashing work as known ones
 * (so timing does not tell which exist). A JWT client assertion (`private_key_jwt`,
 * `client_secret_jwt`) is verified against `issuer`, the `aud` it must carry. Every failure is
 * 401 `invalid_client`; the real reason goes to `detail`, and to `clientAuthenticationFailed`
 * (with `endpoint`, the method tried and the id as given) when someone listens.
 */
export async function authenticateClient (ctx: ServerContext, req: OAuthRequest, params: Params,
  issuer: string | null, endpoint: ClientAuthEndpoint): Promise<AuthenticatedClient> {
  let presented: PresentedCredentials | null = null
  try {
    presented = presentedCredentials(req, params)
    if (presented === null) throw new InvalidClientError({ detail: 'no client credentials' })
    return await authenticatePresented(ctx, presented, issuer)
  } catch (err) {
    // Every 401 `invalid_client` is reported (`clientAuthenticationFailed`): ids and the reason, never the secret or assertion.
    if (err instanceof InvalidClientError && listening(ctx.events, 'clientAuthenticationFailed')) await reportFailure(ctx, endpoint, req, params, presented, err)
    throw err
  }
}

/** What `clientAuthenticationFailed` says of a failed authentication: the method tried, the id as given, the application it names. */
async function reportFailure (ctx: ServerContext, endpoint: ClientAuthEndpoint, req: OAuthRequest, params: Params,
  presented: PresentedCredentials | null, err: InvalidClientError): Promise<void> {
  const method = presented === null
    // Refused while being read (a garbled Basic header, an unknown assertion type, ids that disagree).
    ? /^\s*basic\b/i.test(req.headers.authorization ?? '') ? 'client_secret_basic' : params.client_assertion !== undefined ? 'client_assertion' : null
    : presented.assertion !== undefined ? 'client_assertion' : presented.method
  const clientId = presented?.clientId ?? null
  // A lookup only on failure, and only when someone listens; an error here must not replace the 401.
  // It names the client and grants nothing, so it never fetches a metadata document (`never`),
  // and a document client while `cimdEnabled` is off is reported as the unknown client it was.
  const found = clientId === null ? null : await lookupClient(ctx, clientId, { fetch: 'never' }).catch(() => null)
  notifyClientAuthenticationFailed(ctx, endpoint, method, clientId, found?.application?.id ?? null, err.detail ?? err.error)
}

async function authenticatePresented (ctx: ServerContext, presented: PresentedCredentials, issuer: string | null): Promise<AuthenticatedClient> {
  if (presented.assertion !== undefined) return await authenticateByAssertion(ctx, presented.clientId, presented.assertion, issuer)
  const challenge = presented.method === 'client_secret_basic' ? { headers: BASIC_CHALLENGE } : {}
  // A method this server does not accept at all (`clientAuthMethods`) fails before any lookup or
  // hashing, the same for every client id. `none` is a public client naming itself, or a
  // confidential one that sent no secret: refused either way when `none` is not accepted.
  if (!ctx.settings.clientAuthMethods.includes(presented.method)) {
    throw new InvalidClientError({ detail: `client authentication method ${presented.method} is not accepted here (clientAuthMethods)`, ...challenge })
  }
  const secret = presented.secret ?? ''
  // The same id and secret as in an earlier success: the application without lookup or KDF.
  // Anything else misses, whether the client id exists or not, and takes the full path.
  // A client ID metadata document client is never served from the cache: its document's expiry
  // decides when it is fetched again, which the cache's own lifetime knows nothing of.
  const cache = looksLikeCimdUrl(presented.clientId) ? null : ctx.clientCache ?? null
  const now = nowMs(ctx.clock)
  const key = cache?.keyOf(presented.clientId, secret) ?? ''
  const cached = cache?.get(key, now) ?? null
  const generation = cache?.generation ?? 0
  const found = cached === null ? await lookupClient(ctx, presented.clientId) : { application: cached }
  const application = found.application
  if (application === null) {
    if (secret !== '') await ctx.hasher.verifyDummy(secret)
    throw new InvalidClientError({ detail: found.detail ?? 'unknown client_id', ...challenge })
  }
  const remember = (authenticated: AuthenticatedClient): AuthenticatedClient => {
    if (cached === null) cache?.set(key, freezeApplication(application), generation, now)
    return authenticated
  }
  if (application.clientType === 'public') {
    // A public client holds no secret: it may only identify itself (DOT parity; an empty
    // `client_secret` counts as none, RFC 6749 §2.3.1).
    if (secret !== '') throw new InvalidClientError({ detail: 'public client presented a secret', ...challenge })
    // A registered public client (`none`) sends only client_id, never Basic with an empty secret.
    if (presented.method === 'client_secret_basic' && requiredAuthMethod(application) !== null) {
      throw new InvalidClientError({ detail: 'client registered for none used client_secret_basic', ...challenge })
    }
    return remember({ application, method: 'none' })
  }
  // A missing secret counts as empty, so it fails like a wrong one (DOT 2.3.0, #1092).
  const ok = cached !== null || (secret !== '' && application.clientSecretHash !== '' && await ctx.hasher.verify(secret, application.clientSecretHash))
  if (!ok) {
    if (secret !== '' && application.clientSecretHash === '') await ctx.hasher.verifyDummy(secret)
    throw new InvalidClientError({ detail: 'client secret mismatch', ...challenge })
  }
  const method = presented.method === 'none' ? 'client_secret_post' : presented.method
  // RFC 7591 §2: a registered client authenticates only with the method it registered. Checked
  // after the secret, so a mismatch costs the same as any other failure.
  const required = requiredAuthMethod(application)
  if (required !== null && required !== method) {
    throw new InvalidClientError({ detail: `client registered for ${required} used ${method}`, ...challenge })
  }
  return remember({ application, method })
}

/**
 * RFC 7523 §3: a client authenticating with a JWT. Never served from the client cache: each
 * assertion is verified and its `jti` used up. A public client has no credentials to prove.
 */
async function authenticateByAssertion (ctx: ServerContext, clientId: string, assertion: string, issuer: string | null): Promise<AuthenticatedClient> {
  const { application, detail } = await lookupClient(ctx, clientId)
  if (application === null) throw new InvalidClientError({ detail: `${detail} (client assertion)` })
  if (application.clientType === 'public') throw new InvalidClientError({ detail: 'public client presented a client assertion' })
  const method = await verifyClientAssertion(ctx, application, assertion, issuer)
  return { application, method }
}
