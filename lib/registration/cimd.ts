import { ApplicationValidationError, CIMD_DOCUMENT_FIELDS, prepareApplication } from '../applications.js'
import { addSeconds, nowMs } from '../clock.js'
import type { ServerContext } from '../context.js'
import { OAuthError } from '../errors.js'
import { SafeFetchError, type SafeFetch } from '../http/safe-fetch.js'
import type { Settings } from '../settings.js'
import type { Application, ApplicationChanges, NewApplication } from '../store/types.js'
import { validateClientMetadata, type ValidatedMetadata } from './metadata.js'

// OAuth Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, DOT 3.4's
// CIMD): a client names itself by an https URL, and the document at that URL is its metadata.
// The authorization server fetches it the first time the URL is used as a `client_id`, keeps the
// result as an application (so codes, tokens and consent attach to it as to any client), and
// fetches it again once it goes stale. Everything about such a client is its publisher's word:
// its redirect URIs are unvetted (`selfRegistered`), it holds no shared secret (public, or
// `private_key_jwt` with published keys), and users are shown which host published it.
//
// The URL is attacker-chosen, so fetching it is an SSRF surface: it goes through the safe
// outbound client (https only, public addresses after our own DNS resolution, no redirects, a
// size and a time limit), an operator's host allow and block lists, single flight per URL, a
// cap on fetches in flight, and a backoff after a failure, so a dead or hostile URL costs one
// outbound request per backoff period however many requests name it.
//
// A stale document that cannot be fetched again is not used: the client is refused
// (`invalid_client`) until a fetch succeeds. Serving the stale copy would keep a client working
// after its publisher withdrew or changed it, which is the point of the expiry.

/** The longest CIMD URL accepted: what other client ids may hold (RFC 6749 leaves it open; DOT's column is 255). */
const MAX_URL_LENGTH = 255

/** Most URLs whose last failure is remembered for the backoff; the oldest is forgotten first. */
const MAX_FAILURES = 10000

/** Fields the draft (§4.1) forbids: there is no way to agree on a shared secret with a document. */
const FORBIDDEN_FIELDS = ['client_secret', 'client_secret_expires_at'] as const

/** The only client authentication methods a document may name (§4.1: none based on a shared secret). */
const DOCUMENT_AUTH_METHODS: readonly string[] = ['none', 'private_key_jwt']

/** Grant types whose tokens a user consented to: a document, anyone's word, gets no others. */
const CONSENTED_GRANTS: readonly string[] = ['authorization-code', 'openid-hybrid', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code']

/**
 * True when `clientId` is written as a URL (a scheme and `//`), so it is meant as a Client ID
 * Metadata Document URL. Generated client ids never hold `:`, and operators' ids may not either
 * (applications.ts), so no ordinary client id looks like one.
 */
export function looksLikeCimdUrl (clientId: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(clientId)
}

/**
 * Why `value` is not a Client ID Metadata Document URL (as the end of a sentence), or `null`.
 * Draft §3: the https scheme, a path component, no single- or double-dot path segments, no
 * fragment, no user information. Stricter than the draft in one way: the URL must be written in
 * the WHATWG parser's normal form (lower-case host, no default port, no stray characters), so one
 * client has one spelling and the string compared with the document's `client_id` is the one
 * fetched.
 */
export function cimdUrlProblem (value: string): string | null {
  if (value.length > MAX_URL_LENGTH) return `is longer than ${MAX_URL_LENGTH} characters`
  if (!value.startsWith('https://')) return 'must use the https scheme'
  if (value.includes('#')) return 'must not have a fragment'
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'is not a valid URL'
  }
  if (url.username !== '' || url.password !== '' || value.slice(8).split(/[/?]/, 1)[0]?.includes('@') === true) return 'must not hold user information'
  // Dot segments are judged on the string as sent: the parser would quietly resolve them, and
  // their percent-encoded forms (`%2e`) are dot segments too (RFC 3986 §6.2.2.2).
  const authorityEnd = value.indexOf('/', 8)
  const rawPath = authorityEnd === -1 ? '' : value.slice(authorityEnd).split('?', 1)[0] ?? ''
  if (rawPath.split('/').some((segment) => /^(\.|%2e){1,2}$/i.test(segment))) return 'must not have "." or ".." path segments'
  if (url.pathname === '/' || rawPath === '') return 'must have a path (a document URL, not an origin)'
  if (url.href !== value) return 'must be written in normal form (lower-case host, no default port, no spaces or backslashes)'
  return null
}

/** Whether `pattern` (`host`, or `.domain` for it and its subdomains) covers `host`. */
function hostMatches (pattern: string, host: string): boolean {
  return pattern.startsWith('.') ? host === pattern.slice(1) || host.endsWith(pattern) : host === pattern
}

/** Why the host of a CIMD URL may not be fetched under the settings (`cimdBlockedHosts`, then `cimdAllowedHosts`), or `null`. */
export function cimdHostProblem (settings: Pick<Settings, 'cimdAllowedHosts' | 'cimdBlockedHosts'>, host: string): string | null {
  if (settings.cimdBlockedHosts.some((pattern) => hostMatches(pattern, host))) return `host ${host} is blocked (cimdBlockedHosts)`
  if (settings.cimdAllowedHosts.length > 0 && !settings.cimdAllowedHosts.some((pattern) => hostMatches(pattern, host))) {
    return `host ${host} is not allowed (cimdAllowedHosts)`
  }
  return null
}

/** The host that published a CIMD client's metadata, as the consent page names it (`example.com`, with a port if any). */
export function cimdPublisher (clientId: string): string {
  try {
    return new URL(clientId).host
  } catch {
    return clientId
  }
}

/** Why a client metadata document was refused; the message is for logs (`detail`), never shown to the client in full. */
export class CimdDocumentError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'CimdDocumentError'
  }
}

/**
 * Checks a fetched document as the draft (§4.1) and RFC 7591 §2 require, reusing dynamic
 * registration's validation: a JSON object whose `client_id` is the URL exactly, with
 * `redirect_uris`, no secret, `token_endpoint_auth_method` `none` (the default here: a document
 * client is public unless it says otherwise) or `private_key_jwt` with its keys, and only grant
 * types a user consents to. Throws `CimdDocumentError`.
 */
export function validateCimdDocument (settings: Settings, url: string, document: unknown): ValidatedMetadata {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) throw new CimdDocumentError('is not a JSON object')
  const body = document as Record<string, unknown>
  // §4.1: simple string comparison (RFC 3986 §6.2.1), no normalisation.
  if (body.client_id !== url) throw new CimdDocumentError('has a client_id that is not its own URL')
  for (const field of FORBIDDEN_FIELDS) {
    if (Object.hasOwn(body, field)) throw new CimdDocumentError(`holds ${field} (a document cannot carry a shared secret)`)
  }
  const method = body.token_endpoint_auth_method ?? 'none'
  if (typeof method !== 'string' || !DOCUMENT_AUTH_METHODS.includes(method)) {
    throw new CimdDocumentError('names a token_endpoint_auth_method other than none or private_key_jwt (no shared-secret methods)')
  }
  if (!Array.isArray(body.redirect_uris) || body.redirect_uris.length === 0) throw new CimdDocumentError('has no redirect_uris')
  let validated: ValidatedMetadata
  try {
    validated = validateClientMetadata(settings, { ...body, token_endpoint_auth_method: method }, settings.deviceFlowEnabled)
  } catch (err) {
    if (err instanceof OAuthError) throw new CimdDocumentError(`is not acceptable client metadata: ${err.description ?? err.error}`)
    throw err
  }
  if (!CONSENTED_GRANTS.includes(validated.authorizationGrantType)) {
    throw new CimdDocumentError('asks for a grant type without user consent (client_credentials or password)')
  }
  return validated
}

/** The `max-age` of a `Cache-Control` header (`no-store` and `no-cache` count as 0), or `null` when it has none. */
export function cacheMaxAge (header: string | string[] | undefined): number | null {
  const value = Array.isArray(header) ? header.join(',') : header ?? ''
  let maxAge: number | null = null
  for (const directive of value.split(',')) {
    const [name = '', arg = ''] = directive.trim().split('=', 2).map((part) => part.trim())
    const lower = name.toLowerCase()
    if (lower === 'no-store' || lower === 'no-cache') return 0
    if (lower === 'max-age' && /^"?\d+"?$/.test(arg)) maxAge = Number(arg.replace(/"/g, ''))
  }
  return maxAge
}

/**
 * Requirements a document may ask for and staff may add on their own (RFC 9449 DPoP-bound tokens,
 * RFC 9126 pushed requests, RFC 9101 signed request objects): a fetch can turn one on, never off,
 * so a requirement staff set survives every refetch. (A publisher who drops one keeps it until
 * staff clear it: the row cannot tell whose it was, and the strict reading is the safe one.)
 */
const CIMD_REQUIREMENT_FIELDS = ['dpopBoundAccessTokens', 'requirePushedAuthorizationRequests', 'requireSignedRequestObject'] as const

/**
 * What a refetch writes on a stored document client: the document's fields, the requirements the
 * document asks for, and nothing else. Every other field is the operator's and never a document's
 * word: `skipAuthorization`, `allowIntrospection`, `allowedOrigins`, the owner, the back-channel
 * logout URI; a fetch keeps whatever staff set there. Fields left out of the update are not
 * written at all, so an edit staff make while a fetch is in flight is not overwritten either.
 */
function documentChanges (row: NewApplication): ApplicationChanges {
  const changes: Record<string, unknown> = { selfRegistered: true }
  for (const field of CIMD_DOCUMENT_FIELDS) changes[field] = row[field]
  for (const field of CIMD_REQUIREMENT_FIELDS) if (row[field] === true) changes[field] = true
  // As for any client that becomes public (applications.ts): it loses a permission it could not use safely.
  if (row.clientType === 'public') changes.allowIntrospection = false
  return changes as ApplicationChanges
}

/** What looking a client up by a request's `client_id` found: the application, or why there is none (for logs). */
export type ClientLookup =
  | { readonly application: Application, readonly detail?: undefined }
  | { readonly application: null, readonly detail: string }

/**
 * Fetches, validates and keeps Client ID Metadata Documents (see the file comment). One per
 * server; its state (fetches in flight, failures) is this process's.
 */
export class CimdResolver {
  readonly #fetch: SafeFetch
  readonly #inFlight = new Map<string, Promise<ClientLookup>>()
  /** URL → epoch ms until which it is not fetched again. */
  readonly #failedUntil = new Map<string, number>()
  #active = 0

  /** @param fetch the SSRF-safe client, built with the `cimdMaxDocumentSize` and `cimdFetchTimeoutSeconds` limits. */
  constructor (fetch: SafeFetch) {
    this.#fetch = fetch
  }

  /**
   * The application of a CIMD `client_id`: the stored one while fresh, else the document fetched
   * (once per URL at a time in this process) and stored, as far as `fetch` allows (see
   * {@link ClientLookupOptions}). Never throws for the client's faults: they come back as
   * `{ application: null, detail }`.
   */
  async resolve (ctx: ServerContext, url: string, fetch: ClientFetch = 'resolve'): Promise<ClientLookup> {
    const problem = cimdUrlProblem(url)
    if (problem !== null) return { application: null, detail: `client_id is not a client ID metadata document URL: it ${problem}` }
    const hostProblem = cimdHostProblem(ctx.settings, new URL(url).hostname)
    if (hostProblem !== null) return { application: null, detail: `client ID metadata document refused: ${hostProblem}` }
    const stored = await ctx.store.findApplicationByClientId(url)
    // An application the operator made with this id is theirs, not a document's.
    if (stored !== null && stored.cimdExpiresAt === null) return { application: stored }
    if (stored?.cimdExpiresAt != null && stored.cimdExpiresAt.getTime() > nowMs(ctx.clock)) return { application: stored }
    if (fetch === 'never') return stored === null ? { application: null, detail: 'unknown client_id' } : { application: stored }
    if (fetch === 'refresh' && stored === null) return { application: null, detail: 'unknown client_id (a client ID metadata document not stored yet is not fetched here)' }
    const pending = this.#inFlight.get(url)
    if (pending !== undefined) return await pending
    const load = this.#refresh(ctx, url, stored).finally(() => this.#inFlight.delete(url))
    this.#inFlight.set(url, load)
    return await load
  }

  async #refresh (ctx: ServerContext, url: string, stored: Application | null): Promise<ClientLookup> {
    const now = nowMs(ctx.clock)
    const until = this.#failedUntil.get(url)
    if (until !== undefined && until > now) return { application: null, detail: 'client ID metadata document failed recently (cimdFailureBackoffSeconds)' }
    if (this.#active >= ctx.settings.cimdMaxConcurrentFetches) {
      // Not a failure of this URL: no backoff, the next request may fetch it.
      return { application: null, detail: 'too many client ID metadata documents being fetched (cimdMaxConcurrentFetches)' }
    }
    this.#active++
    let validated: ValidatedMetadata
    let maxAge: number | null
    try {
      const response = await this.#fetch(url, { accept: 'application/json' })
      const type = String(response.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? ''
      // §4: application/json, or a more specific `application/…+json`.
      if (type !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) throw new CimdDocumentError(`is served as ${type === '' ? 'no content type' : type}, not JSON`)
      let parsed: unknown
      try {
        parsed = JSON.parse(response.body.toString('utf8'))
      } catch {
        throw new CimdDocumentError('is not valid JSON')
      }
      validated = validateCimdDocument(ctx.settings, url, parsed)
      maxAge = cacheMaxAge(response.headers['cache-control'])
    } catch (err) {
      this.#fail(ctx, url)
      if (err instanceof SafeFetchError) return { application: null, detail: `client ID metadata document fetch refused (${err.reason}): ${err.message}` }
      if (err instanceof CimdDocumentError) return { application: null, detail: `client ID metadata document ${err.message}` }
      throw err
    } finally {
      this.#active--
    }
    try {
      const application = await this.#store(ctx, url, stored, validated, maxAge)
      this.#failedUntil.delete(url)
      return { application }
    } catch (err) {
      if (!(err instanceof ApplicationValidationError)) throw err
      this.#fail(ctx, url)
      return { application: null, detail: `client ID metadata document is not an acceptable application: ${err.message}` }
    }
  }

  #fail (ctx: ServerContext, url: string): void {
    this.#failedUntil.delete(url)
    if (this.#failedUntil.size >= MAX_FAILURES) {
      const oldest = this.#failedUntil.keys().next()
      if (oldest.done !== true) this.#failedUntil.delete(oldest.value)
    }
    this.#failedUntil.set(url, nowMs(ctx.clock) + ctx.settings.cimdFailureBackoffSeconds * 1000)
  }

  /** Creates or updates the application the document describes; its expiry is the document's `max-age` within the settings' bounds. */
  async #store (ctx: ServerContext, url: string, stored: Application | null, validated: ValidatedMetadata, maxAge: number | null): Promise<Application> {
    const { metadata, clientType, authorizationGrantType } = validated
    const s = ctx.settings
    const seconds = Math.min(Math.max(maxAge ?? 0, s.cimdMetadataMinAgeSeconds), s.cimdMetadataMaxAgeSeconds)
    const now = ctx.clock.now()
    const cimdExpiresAt = addSeconds(now, seconds)
    // The application rules (redirect URIs, keys, algorithms) as for any other client; the id drawn here is replaced by the URL.
    const { row } = await prepareApplication(ctx, {
      clientType,
      authorizationGrantType,
      name: metadata.client_name ?? '',
      redirectUris: metadata.redirect_uris,
      postLogoutRedirectUris: metadata.post_logout_redirect_uris ?? [],
      requirePushedAuthorizationRequests: metadata.require_pushed_authorization_requests ?? false,
      dpopBoundAccessTokens: metadata.dpop_bound_access_tokens ?? false,
      requireSignedRequestObject: metadata.require_signed_request_object ?? false,
      requestObjectSigningAlg: metadata.request_object_signing_alg ?? '',
      userinfoSignedResponseAlg: metadata.userinfo_signed_response_alg ?? '',
      tokenEndpointAuthMethod: metadata.token_endpoint_auth_method,
      jwks: metadata.jwks === undefined ? '' : JSON.stringify(metadata.jwks),
      jwksUri: metadata.jwks_uri ?? '',
      tokenEndpointAuthSigningAlg: metadata.token_endpoint_auth_signing_alg ?? '',
      allowedScopes: metadata.scope === undefined ? null : metadata.scope.split(' '),
      algorithm: metadata.id_token_signed_response_alg ?? '',
      // RFC 7662 §4: an administrator's decision, never a document's.
      allowIntrospection: false,
      // RFC 9700 §4.11.2: the redirect URIs are only the publisher's word.
      selfRegistered: true,
    })
    if (stored !== null) {
      const updated = await ctx.store.updateApplication(stored.id, { ...documentChanges(row), cimdExpiresAt }, now)
      if (updated !== null) return updated
    }
    try {
      return await ctx.store.createApplication({ ...row, clientId: url, selfRegistered: true, cimdExpiresAt })
    } catch (err) {
      // Another process stored the same document first (the client id is unique): use theirs.
      const theirs = await ctx.store.findApplicationByClientId(url)
      if (theirs !== null && theirs.cimdExpiresAt !== null) return theirs
      throw err
    }
  }
}

/**
 * How far a lookup may go for a Client ID Metadata Document URL (with `cimdEnabled`):
 * - `resolve`: fetch the document when it is not stored yet or stale; a new client may appear.
 *   For the endpoints where a client starts or continues a flow.
 * - `refresh`: only a document client already stored; a stale one is fetched again (and refused
 *   while that fails), a URL never seen is an unknown client, without any fetch. For endpoints
 *   that only ever concern a client that already took part in a flow (RP-initiated logout, the
 *   device verification page), which must not become a way to make the server fetch and store.
 * - `never`: no outbound request at all: the stored row, stale or not. Only where the answer
 *   grants the client nothing: naming it in a failure report, or RFC 7592 management, where a
 *   document client (never dynamically registered) is refused anyway.
 */
export type ClientFetch = 'resolve' | 'refresh' | 'never'

/** `lookupClient`'s options. */
export interface ClientLookupOptions {
  /** What a Client ID Metadata Document URL may cost (default `resolve`). */
  readonly fetch?: ClientFetch
}

/**
 * The application a `client_id` names, as policy allows: the one way the toolkit looks a client
 * up by its id (authorization, PAR, token, revocation, introspection, device authorization and
 * verification, RP-initiated logout, RFC 7592 management, failure reports; an architecture test
 * keeps it so). With `cimdEnabled` a URL goes through the Client ID Metadata Document resolver
 * (fresh, refetched when stale, refused while a refetch fails); without it a URL is an unknown
 * client, and so is an application a document created while it was on, whatever `fetch` says.
 */
export async function lookupClient (ctx: ServerContext, clientId: string, options: ClientLookupOptions = {}): Promise<ClientLookup> {
  if (ctx.settings.cimdEnabled && ctx.cimd != null && looksLikeCimdUrl(clientId)) return await ctx.cimd.resolve(ctx, clientId, options.fetch)
  const application = await ctx.store.findApplicationByClientId(clientId)
  return storedClientPolicy(ctx, application)
}

/**
 * The policy on an application found by other means than its `client_id` (the client of a token,
 * a device authorization, …) when what follows is a decision for that client, not a mere record:
 * a document client is refused while `cimdEnabled` is off, and looked up again (`refresh`) when
 * its document is stale, as `lookupClient` would. Every other application passes as it is.
 */
export async function checkClientPolicy (ctx: ServerContext, application: Application): Promise<ClientLookup> {
  if (application.cimdExpiresAt === null) return { application }
  if (!ctx.settings.cimdEnabled) return storedClientPolicy(ctx, application)
  if (application.cimdExpiresAt.getTime() > nowMs(ctx.clock)) return { application }
  return await lookupClient(ctx, application.clientId, { fetch: 'refresh' })
}

function storedClientPolicy (ctx: ServerContext, application: Application | null): ClientLookup {
  if (application === null) return { application: null, detail: 'unknown client_id' }
  if (application.cimdExpiresAt !== null && !ctx.settings.cimdEnabled) return { application: null, detail: 'client ID metadata document client while cimdEnabled is off' }
  return { application }
}

/** `clearExpiredCimdApplications`'s options. */
export interface ClearCimdOptions {
  /** Applications examined per store call (default `clearExpiredTokensBatchSize`). */
  readonly batchSize?: number
}

/**
 * DOT's `clearcimdapplications`: deletes the applications Client ID Metadata Documents created
 * whose document has gone stale and that hold no live token, code or device authorization. A
 * client that comes back is fetched anew. Returns how many were deleted.
 */
export async function clearExpiredCimdApplications (ctx: ServerContext, options: ClearCimdOptions = {}): Promise<number> {
  const batchSize = options.batchSize ?? ctx.settings.clearExpiredTokensBatchSize
  const now = ctx.clock.now()
  let total = 0
  for (;;) {
    const deleted = await ctx.store.deleteExpiredCimdApplications(now, batchSize)
    total += deleted
    if (deleted < batchSize) return total
  }
}
