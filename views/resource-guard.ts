import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify'
import { describeValue } from '../lib/describe-value.js'
import { ImproperlyConfiguredError, InvalidTokenError, type OAuthError } from '../lib/errors.js'
import { rejectUnknownOptions, type OptionNames } from '../lib/option-keys.js'
import type { AccessTokenInfo, BearerResult, BearerSource, ResourceOwner } from '../lib/resource/bearer.js'
import { protectedResourceMetadataUrl, sameResource, type ProtectedResourceSettings } from '../lib/resource/identifiers.js'
import { usesDpopScheme } from '../lib/dpop/resource.js'
import { resourceDenial } from '../lib/response.js'
import type { Settings } from '../lib/settings.js'
import { sendOAuthResponse } from './oauth-request.js'

// The resource guard behind `app.oauthResource` (and `app.oauth`): the bearer check of a request,
// the hooks `protect()` and the protected-resource views run, and the answer to a refused
// request. The core plugin builds it over its own store, `resourceServer` over a remote
// authorization server; both only wire it.

/** Options of `app.oauth.protect()` (DOT's `protected_resource` / `rw_protected_resource`). */
export interface ProtectOptions {
  /** Scopes the token must hold. */
  scopes?: readonly string[]
  /** Also require `readScope` for safe methods and `writeScope` for the others. */
  readWrite?: boolean
  /** Override the plugin's `bearerChallenge` setting for these routes. */
  bearerChallenge?: boolean
  /**
   * The RFC 8707 resource these routes serve: one of the `protectedResources` identifiers. Only
   * tokens bound to it pass (`invalid_token` otherwise), and challenges carry its RFC 9728
   * `resource_metadata` URL. Without it, tokens bound to any resource are refused.
   */
  resource?: string
}

/**
 * `loadUser` as the resource-server helpers call it: also given the verified token, so that a
 * standalone resource server can use the remote answer (for example its `username`).
 */
export type ResourceLoadUser = (userId: string, token: AccessTokenInfo) => Promise<ResourceOwner | null>

/** What the resource-server helpers need: settings and a bearer check (the local store, or a remote authorization server). */
export interface BearerAuthority {
  readonly settings: Settings
  authenticateBearer (source: BearerSource, requiredScopes?: readonly string[], resource?: string | null): Promise<BearerResult>
  /** The same check, answered synchronously when it needs no I/O (a verification-cache hit); optional (absent: always `authenticateBearer`). */
  authenticateBearerNow? (source: BearerSource, requiredScopes?: readonly string[], resource?: string | null): BearerResult | Promise<BearerResult>
  /** RFC 9449: the proof algorithms accepted when the check accepts DPoP tokens (challenges offer them); absent or `null`: no DPoP. */
  readonly dpopAlgorithms?: readonly string[] | null
}

/** What a bearer check gives a hook: `null` (let the request through), the error to answer, or either later. */
export type VerifyOutcome = OAuthError | null | PromiseLike<OAuthError | null>

/**
 * The resource-server half of the toolkit, `app.oauthResource`: what `ProtectedResourceView` and
 * `protect()` use. The core plugin backs it with its own store; `resourceServer` with a remote
 * authorization server (introspection or JWT access tokens).
 */
export interface OAuthResourceGuard {
  readonly settings: Settings
  /**
   * An `onRequest` hook that lets a request through only with a valid bearer token (and scopes).
   * @example
   * app.get('/api/items', { onRequest: app.oauth.protect({ scopes: ['read'] }) }, handler)
   *
   * A callback-style hook: a token in the verification cache is let through (or refused)
   * synchronously, without a promise; otherwise it waits for the store.
   */
  protect (options?: ProtectOptions): onRequestHookHandler
  /** Scopes a read/write-protected route needs for `method`, on top of `scopes`. */
  scopesForMethod (method: string, scopes: readonly string[], readWrite: boolean): readonly string[]
  /**
   * Runs the bearer check for `request` and, on success, sets `request.accessToken` / `request.resourceOwner`.
   * @param resource the route's declared RFC 8707 resource (the token's audience must include it), or none.
   */
  verifyRequest (request: FastifyRequest, requiredScopes: readonly string[], resource?: string | null): Promise<OAuthError | null>
  /**
   * `verifyRequest`, answering synchronously when it needs no I/O (a token in the verification
   * cache and no `loadUser` to call, or a refused presentation): `null` or the error then, a
   * promise of them otherwise.
   */
  verifyRequestNow (request: FastifyRequest, requiredScopes: readonly string[], resource?: string | null): VerifyOutcome
  /**
   * Writes the failure answer: DOT's bare 403, or an RFC 6750 challenge, which names the
   * RFC 9728 `resource_metadata` of the route's declared `resource` (§5.1).
   */
  deny (reply: FastifyReply, error: OAuthError, requiredScopes: readonly string[], bearerChallenge?: boolean, resource?: string | null): FastifyReply
  /** The declared protected resource `resource` names; throws `ImproperlyConfiguredError` when it is not in `protectedResources`. */
  declaredResource (resource: string): ProtectedResourceSettings
}

/** How a guard is built, beyond its bearer check. */
export interface ResourceGuardOptions {
  /** Resolves `request.resourceOwner` from the token's user; `null`: it stays `null`. */
  readonly loadUser: ResourceLoadUser | null
  /**
   * When a verification could not be completed (a remote authorization server slow or down):
   * `unavailable` (default) answers 503 + `Retry-After`; `deny` answers as for an invalid token.
   */
  readonly onUnavailable?: 'unavailable' | 'deny'
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** The RFC 9728 document URL of a declared resource whose document this app serves, else `null`. */
function resourceMetadataUrlOf (settings: Settings, resource: string): string | null {
  const declared = settings.protectedResources.find((r) => sameResource(r.resource, resource))
  return declared === undefined || declared.metadata === false ? null : protectedResourceMetadataUrl(declared.resource)
}

/**
 * Ends a callback-style guard hook: `done()` when the request may proceed, `refuse(error)` (which
 * sends the answer; `done` is then not called, as Fastify wants) when it may not. A synchronous
 * outcome is settled at once, with no promise (the cache-hit path); a throw from `refuse`
 * after a wait reaches Fastify's error handler, as it did from the former `async` hooks.
 */
export function finishHook (outcome: VerifyOutcome, done: HookHandlerDoneFunction, refuse: (error: OAuthError) => void): void {
  if (outcome === null) {
    done()
  } else if (!('then' in outcome)) {
    refuse(outcome)
  } else {
    outcome.then((error) => {
      if (error === null) {
        done()
        return
      }
      try {
        refuse(error)
      } catch (err) {
        done(err as Error)
      }
    }, (err: unknown) => { done(err as Error) })
  }
}

/** What `protect(options)` accepts: each name once, kept in step with `ProtectOptions` by the compiler. */
const PROTECT_OPTIONS: OptionNames<ProtectOptions> = { scopes: true, readWrite: true, bearerChallenge: true, resource: true }

/**
 * Checks `protect()`'s options when the route is defined: a misspelt option or an undeclared
 * scope would otherwise surface only as every token being refused (or none checked).
 */
function checkProtectOptions (options: ProtectOptions, settings: Settings): void {
  const fail = (message: string): never => { throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', `fastify-oauth-toolkit: protect(): ${message}`) }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) fail(`options must be an object; got ${describeValue(options)}`)
  rejectUnknownOptions('protect()', options, Object.keys(PROTECT_OPTIONS))
  const { scopes, readWrite, bearerChallenge } = options
  if (scopes !== undefined) {
    if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string')) fail(`scopes must be a list of scope names; got ${describeValue(scopes)}`)
    const undeclared = scopes.filter((s) => !Object.hasOwn(settings.scopes, s))
    if (undeclared.length > 0) fail(`scope${undeclared.length === 1 ? '' : 's'} ${undeclared.map((s) => `"${s}"`).join(', ')} not declared in settings.scopes (${Object.keys(settings.scopes).join(', ')})`)
  }
  if (readWrite !== undefined && typeof readWrite !== 'boolean') fail(`readWrite must be true or false; got ${describeValue(readWrite)}`)
  if (bearerChallenge !== undefined && typeof bearerChallenge !== 'boolean') fail(`bearerChallenge must be true or false; got ${describeValue(bearerChallenge)}`)
}

/** Builds `verifyRequest`, `scopesForMethod`, `deny`, `protect` and `declaredResource` over any bearer check. */
export function createResourceGuard (authority: BearerAuthority, options: ResourceGuardOptions): OAuthResourceGuard {
  const { settings } = authority
  const { loadUser, onUnavailable = 'unavailable' } = options

  const dpopAlgorithms = authority.dpopAlgorithms ?? null

  function bearerSource (request: FastifyRequest): BearerSource {
    const queryToken = (request.query as Record<string, unknown> | undefined)?.access_token
    const authorization = request.headers.authorization
    const fromQuery = queryToken === undefined ? undefined : typeof queryToken === 'string' ? queryToken : ''
    // RFC 9449 §7: the proof, method and target only matter to the DPoP scheme; a Bearer request builds none of it.
    if (dpopAlgorithms !== null && usesDpopScheme(authorization)) {
      return { authorization, queryToken: fromQuery, dpop: request.headers.dpop, method: request.method, target: request.url }
    }
    return { authorization, queryToken: fromQuery }
  }

  /** Applies a bearer result to `request`; a promise only when `loadUser` must run. */
  function accept (request: FastifyRequest, result: BearerResult): VerifyOutcome {
    if (!result.ok) return result.error
    if (loadUser !== null && result.token.userId !== null) return withOwner(request, result.token, loadUser)
    request.accessToken = result.token
    return null
  }

  async function withOwner (request: FastifyRequest, token: AccessTokenInfo, load: ResourceLoadUser): Promise<OAuthError | null> {
    const owner = await load(token.userId as string, token)
    // Fail closed: a token outlives nothing it speaks for (DOT deletes a user's tokens with the user).
    if (owner == null) return new InvalidTokenError({ detail: 'loadUser found no user for the token' })
    request.resourceOwner = owner
    request.accessToken = token
    return null
  }

  function verifyRequestNow (request: FastifyRequest, requiredScopes: readonly string[], resource: string | null = null): VerifyOutcome {
    const source = bearerSource(request)
    const result = authority.authenticateBearerNow?.(source, requiredScopes, resource) ?? authority.authenticateBearer(source, requiredScopes, resource)
    return 'then' in result ? result.then((settled) => accept(request, settled)) : accept(request, result)
  }

  async function verifyRequest (request: FastifyRequest, requiredScopes: readonly string[], resource: string | null = null): Promise<OAuthError | null> {
    return await verifyRequestNow(request, requiredScopes, resource)
  }

  function scopesForMethod (method: string, scopes: readonly string[], readWrite: boolean): readonly string[] {
    if (!readWrite) return scopes
    return [...scopes, SAFE_METHODS.has(method) ? settings.readScope : settings.writeScope]
  }

  function deny (reply: FastifyReply, error: OAuthError, requiredScopes: readonly string[], bearerChallenge = settings.bearerChallenge, resource: string | null = null): FastifyReply {
    // `onUnavailable: 'deny'` (DOT's behaviour): a verification that could not be completed is answered as an invalid token.
    const refused = error.error === 'temporarily_unavailable' && onUnavailable === 'deny' ? new InvalidTokenError({ detail: error.detail ?? 'unavailable' }) : error
    return sendOAuthResponse(reply, resourceDenial(refused, {
      bearerChallenge,
      realm: settings.realm,
      requiredScopes,
      scopesInBody: settings.errorResponseWithScopes,
      resourceMetadata: resource === null ? null : resourceMetadataUrlOf(settings, resource),
      dpopAlgorithms,
      dpopScheme: dpopAlgorithms !== null && usesDpopScheme(reply.request.headers.authorization),
    }))
  }

  function protect (options: ProtectOptions = {}): onRequestHookHandler {
    checkProtectOptions(options, settings)
    const scopes = [...(options.scopes ?? [])]
    const readWrite = options.readWrite === true
    // Checked now, when the route is defined, so a typo fails at startup rather than refusing every token.
    const resource = options.resource === undefined ? null : declaredResource(options.resource).resource
    return function oauthProtect (request, reply, done) {
      if (request.method === 'OPTIONS') { done(); return } // DOT parity: preflights pass without a token
      const required = scopesForMethod(request.method, scopes, readWrite)
      const outcome = verifyRequestNow(request, required, resource)
      if (outcome === null) { done(); return } // the common case: no refusal callback to allocate
      finishHook(outcome, done, (error) => { deny(reply, error, required, options.bearerChallenge, resource) })
    }
  }

  function declaredResource (resource: string): ProtectedResourceSettings {
    const found = settings.protectedResources.find((r) => sameResource(r.resource, resource))
    if (found === undefined) {
      throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', `fastify-oauth-toolkit: resource ${resource} is not declared in settings.protectedResources`)
    }
    return found
  }

  return { settings, protect, scopesForMethod, verifyRequest, verifyRequestNow, deny, declaredResource }
}
