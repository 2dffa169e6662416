import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, HookHandlerDoneFunction, HTTPMethods } from 'fastify'
import { ImproperlyConfiguredError, InvalidClientError, OAuthError } from '../lib/errors.js'
import { challengeIfBasic } from '../lib/validator/client-auth.js'
import { finishHook, type VerifyOutcome } from './resource-guard.js'
import { oauthLogSerializers } from './log-redaction.js'

/** A view method: receives Fastify's request and reply; its return value is the response body. */
export type ViewMethod = (request: FastifyRequest, reply: FastifyReply) => unknown

/** The HTTP methods a view class may define, as lower-case instance method names. */
export const VIEW_METHODS = ['get', 'post', 'put', 'patch', 'delete', 'options'] as const
type ViewMethodName = typeof VIEW_METHODS[number]

/** Methods answered with 405 + `Allow` when the class does not define them (HEAD is served by `get`). */
const ANSWERED_METHODS: readonly HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']

/** A view class: `new ()` gives an instance whose `get`/`post`/… methods serve requests. */
export interface ViewClass<V extends ProtectedResourceView = ProtectedResourceView> {
  new (): V
}

/**
 * DOT's `ProtectedResourceView`: a class whose `get`, `post`, `put`, `patch`, `delete` methods
 * serve a path once a valid bearer token was checked in an `onRequest` hook (by `app.oauthResource`:
 * the core plugin's store, or a standalone `resourceServer`'s remote checks). Methods the class
 * does not define answer 405 with `Allow`; `OPTIONS` passes without a token (DOT parity). One
 * instance serves every request: keep per-request state on the request, not on the view.
 * @example
 * class HelloView extends ProtectedResourceView {
 *   async get () { return 'Hello, OAuth2!' }
 * }
 * await app.register(HelloView.asView('/api/hello'))
 */
export class ProtectedResourceView {
  /** Answer failures with RFC 6750 challenges (401/403 + `WWW-Authenticate`); `undefined` follows the plugin setting. */
  bearerChallenge: boolean | undefined = undefined

  /**
   * The RFC 8707 resource this view serves, one of `settings.protectedResources`: only tokens
   * bound to it pass, and challenges carry its RFC 9728 `resource_metadata`. `undefined`: none
   * (tokens bound to any resource are refused).
   */
  resource: string | undefined = undefined

  /** Scopes needed for `method`; subclasses narrow this. */
  requiredScopesFor (_method: string, _app: FastifyInstance): readonly string[] {
    return []
  }

  /** Checks the configuration once, when the view is registered. */
  validate (_app: FastifyInstance): void {}

  /**
   * Verifies the request; `null` when it may proceed. Runs in `onRequest` (before the body is
   * parsed). Answers synchronously when no I/O is needed (a token in the verification cache, issue
   * 7), else with a promise; an override may simply be `async`.
   */
  authenticate (request: FastifyRequest, required: readonly string[]): VerifyOutcome {
    return request.server.oauthResource.verifyRequestNow(request, required, this.resource ?? null)
  }

  /** The hook that runs `authenticate`. Client-protected views need the body, so they use `preHandler`. */
  get authenticationHook (): 'onRequest' | 'preHandler' {
    return 'onRequest'
  }

  /** Turns the class into a Fastify plugin serving `path`. */
  static asView<V extends ProtectedResourceView> (this: ViewClass<V>, path: string): FastifyPluginAsync {
    const ViewType = this
    return async function protectedResourceView (app) {
      // `oauthResource`: the core plugin's store, or a standalone resourceServer's remote checks.
      if (!app.hasDecorator('oauthResource')) {
        throw new ImproperlyConfiguredError('OAT_ERR_PLUGIN_ORDER', `fastify-oauth-toolkit: register the core plugin (or resourceServer) before ${ViewType.name}.asView()`)
      }
      const view = new ViewType()
      view.validate(app)
      // Fails registration for an undeclared resource; the declared spelling is used from here on.
      if (view.resource !== undefined) view.resource = app.oauthResource.declaredResource(view.resource).resource
      // A bearer token sent in the query (refused or not) must not reach the request log.
      app.addHook('onRoute', (route) => { route.logSerializers = { ...route.logSerializers, ...oauthLogSerializers } })
      const handlers = view as unknown as Partial<Record<ViewMethodName, ViewMethod>>
      const defined = VIEW_METHODS.filter((m) => typeof handlers[m] === 'function')
      checkHandlerNames(view, ViewType.name, defined)
      const allow = [...defined.map((m) => m.toUpperCase()), ...(defined.includes('get') ? ['HEAD'] : []), 'OPTIONS']
        .filter((m, i, all) => all.indexOf(m) === i).join(', ')

      const hook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
        if (request.method === 'OPTIONS') { done(); return }
        const required = view.requiredScopesFor(request.method, app)
        const outcome = view.authenticate(request, required)
        if (outcome === null) { done(); return } // the common case: no refusal callback to allocate
        finishHook(outcome, done, (error) => { app.oauthResource.deny(reply, error, required, view.bearerChallenge, view.resource ?? null) })
      }
      for (const name of defined) {
        const method = handlers[name] as ViewMethod
        app.route({
          method: name.toUpperCase() as HTTPMethods,
          url: path,
          [view.authenticationHook]: hook,
          handler: (request, reply) => method.call(view, request, reply),
        })
      }
      if (!defined.includes('options')) {
        app.options(path, async (_request, reply) => reply.header('allow', allow).code(200).send())
      }
      const missing = ANSWERED_METHODS.filter((m) => !defined.includes((m === 'HEAD' ? 'get' : m.toLowerCase()) as ViewMethodName))
      if (missing.length > 0) {
        // DOT parity: the token is checked before the method is looked up, so an anonymous
        // caller gets 403, not the list of methods.
        app.route({
          method: [...missing],
          url: path,
          [view.authenticationHook]: hook,
          handler: async (_request, reply) => reply.header('allow', allow).code(405).send(),
        })
      }
    }
  }
}

/**
 * Fails registration for a view that would answer nothing but 405: one with no handler method,
 * or with one whose name differs from an HTTP method only in case (`Get`, `POST`), which
 * dispatch would never call.
 */
function checkHandlerNames (view: ProtectedResourceView, className: string, defined: readonly ViewMethodName[]): void {
  const fail = (message: string): never => { throw new ImproperlyConfiguredError('OAT_ERR_VIEW', `fastify-oauth-toolkit: ${className} ${message}`) }
  for (let proto: object | null = Object.getPrototypeOf(view); proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const lower = name.toLowerCase()
      if (name !== lower && (VIEW_METHODS as readonly string[]).includes(lower)) fail(`has a method "${name}"; handlers are named in lower case ("${lower}")`)
    }
  }
  if (defined.length === 0) fail(`has no handler method; define at least one of ${VIEW_METHODS.filter((m) => m !== 'options').join(', ')}`)
}

/** DOT's `ScopedProtectedResourceView`: the token must also hold every scope in `requiredScopes`. */
export class ScopedProtectedResourceView extends ProtectedResourceView {
  /** Scopes every request must hold. Required. */
  requiredScopes: readonly string[] = []

  override validate (app: FastifyInstance): void {
    if (this.requiredScopes.length === 0) {
      throw new ImproperlyConfiguredError('OAT_ERR_VIEW', `fastify-oauth-toolkit: ${this.constructor.name} must set requiredScopes`)
    }
    const unknown = this.requiredScopes.filter((s) => !Object.hasOwn(app.oauthResource.settings.scopes, s))
    if (unknown.length > 0) {
      throw new ImproperlyConfiguredError('OAT_ERR_VIEW', `fastify-oauth-toolkit: ${this.constructor.name} requires scopes not declared in settings.scopes (${Object.keys(app.oauthResource.settings.scopes).join(', ')}): ${unknown.join(', ')}`)
    }
  }

  override requiredScopesFor (_method: string, _app: FastifyInstance): readonly string[] {
    return this.requiredScopes
  }
}

/**
 * DOT's `ReadWriteScopedResourceView`: GET/HEAD/OPTIONS need `readScope`, other methods need
 * `writeScope`, on top of `requiredScopes` (which may be empty here).
 */
export class ReadWriteScopedResourceView extends ScopedProtectedResourceView {
  override validate (app: FastifyInstance): void {
    const { scopes, readScope, writeScope } = app.oauthResource.settings
    for (const scope of [readScope, writeScope, ...this.requiredScopes]) {
      if (!Object.hasOwn(scopes, scope)) {
        throw new ImproperlyConfiguredError('OAT_ERR_VIEW', `fastify-oauth-toolkit: ${this.constructor.name} needs the scope "${scope}" in settings.scopes`)
      }
    }
  }

  override requiredScopesFor (method: string, app: FastifyInstance): readonly string[] {
    return app.oauthResource.scopesForMethod(method, this.requiredScopes, true)
  }
}

/** True when the request carries client credentials (Basic, or `client_id` + `client_secret` in the body). */
function presentsClientCredentials (request: FastifyRequest): boolean {
  if (/^basic\b/i.test(request.headers.authorization ?? '')) return true
  const body = request.body as Record<string, unknown> | null | undefined
  return typeof body === 'object' && body !== null && typeof body.client_id === 'string' && typeof body.client_secret === 'string'
}

/**
 * DOT's `ClientProtectedResourceView`: accepts a client's own credentials (Basic or body), or
 * else a bearer token. It reads the body, so it authenticates in `preHandler`, not `onRequest`.
 * Failed client authentication is DOT's bare 403 by default; with `bearerChallenge` it is RFC
 * 6749 §5.2's 401 `invalid_client` (with a `Basic` challenge when Basic was used).
 */
export class ClientProtectedResourceView extends ProtectedResourceView {
  /** Client credentials are checked against the local store: a standalone resource server has none. */
  override validate (app: FastifyInstance): void {
    if (!app.hasDecorator('oauth')) {
      throw new ImproperlyConfiguredError('OAT_ERR_PLUGIN_ORDER', `fastify-oauth-toolkit: ${this.constructor.name} checks client credentials and needs the core plugin`)
    }
  }

  override get authenticationHook (): 'onRequest' | 'preHandler' {
    return 'preHandler'
  }

  override async authenticate (request: FastifyRequest, required: readonly string[]): Promise<OAuthError | null> {
    if (!presentsClientCredentials(request)) return await super.authenticate(request, required)
    try {
      // Under the token endpoint's failure limits and counters (BRUTE-1): an address over them is
      // refused (429) before any hash, the right secret included, and a failure here counts there.
      const client = await request.server.oauth.authenticateClient(request)
      if (client.application.clientType !== 'confidential') {
        return new InvalidClientError({ detail: 'public clients cannot authenticate', ...challengeIfBasic(request) })
      }
      request.oauthClient = client.application
      return null
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err
      return err
    }
  }
}

/** DOT's `ClientProtectedScopedResourceView`: as above; scopes apply when a bearer token is used. */
export class ClientProtectedScopedResourceView extends ClientProtectedResourceView {
  /** Scopes a bearer token must hold. Required. */
  requiredScopes: readonly string[] = []

  override validate (app: FastifyInstance): void {
    super.validate(app)
    ScopedProtectedResourceView.prototype.validate.call(this, app)
  }

  override requiredScopesFor (_method: string, _app: FastifyInstance): readonly string[] {
    return this.requiredScopes
  }
}
