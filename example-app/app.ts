// DOT's tutorial as a Fastify app: the authorization server under /o/ and a protected API.
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import { fastifyOAuthToolkit, oauthLogSerializers, oauthMetadata, oauthRoutes, ProtectedResourceView, TOOLKIT_EVENT_NAMES, type FastifyOAuthToolkitOptions, type SettingsInput } from 'fastify-oauth-toolkit'
import pg from 'pg'
import { registerAccounts, sessionUser } from './accounts.js'
import { isPostgresUrl } from './paths.js'
import { openUserStore, type ExampleUser } from './users.js'

// Tell TypeScript what `request.resourceOwner` is in this app (tutorial part 3).
declare module 'fastify-oauth-toolkit' {
  interface ResourceOwner extends ExampleUser {}
}

/** Tutorial part 2: the API answers only requests that carry a valid access token. */
export class HelloView extends ProtectedResourceView {
  async get (): Promise<string> {
    return 'Hello, OAuth2!'
  }
}

/** Tutorial part 3: the token tells the API which user is calling. */
export class MeView extends ProtectedResourceView {
  async get (request: FastifyRequest): Promise<{ username: string | null, application: string, scopes: readonly string[] }> {
    const token = request.accessToken
    return {
      username: request.resourceOwner?.username ?? null,
      application: token?.application?.name ?? '',
      scopes: token?.scopes ?? [],
    }
  }
}

/** Options of the example app. */
export interface ExampleAppOptions {
  /** The database holding the OAuth tables and the users: a SQLite file path, or a postgres:// URL. */
  databasePath: string
  /**
   * The issuer identifier clients see (discovery, ID token `iss`, the device `verification_uri`),
   * e.g. `https://auth.example.com/o`: the routes live under its path. `server.ts` always sets
   * it (ISSUER); without it the issuer follows each request's Host header.
   */
  issuer?: string
  logger?: boolean
  /** Signs session cookies and CSRF tokens (SESSION_SECRET); random per process when unset. */
  secret?: string
  /** An RSA private key (PEM) that turns on OpenID Connect: ID tokens, discovery, JWKS, UserInfo. */
  oidcPrivateKey?: string
  /** A P-256 private key (PEM) that lets applications choose ES256 ID tokens (with `oidcPrivateKey`). */
  oidcEs256Key?: string
  /** Seals the client secrets of HS256 applications (OAT_CLIENT_SECRET_SEALING_KEY); without it, HS256 is refused. */
  clientSecretSealingKey?: string
  /**
   * Client ID Metadata Documents (CIMD_ENABLED=1): an https URL may be a `client_id`, its JSON
   * document fetched as the client's metadata; `allowedHosts` (CIMD_ALLOWED_HOSTS) limits which
   * hosts. Off by default: the server then fetches nothing a client names.
   */
  cimd?: { readonly enabled: boolean, readonly allowedHosts: readonly string[] }
  /**
   * The TLS-terminating proxies in front of the app (TRUST_PROXY), for Fastify's `trustProxy`:
   * their X-Forwarded-For and X-Forwarded-Proto name the client's address (which the failure
   * limits count by) and scheme (the session and CSRF cookies are `Secure` over https).
   */
  trustProxy?: readonly string[]
  /** Toolkit settings over the example's own (the benchmark turns the verification cache off with them). */
  settings?: SettingsInput
  /**
   * SQLite only: the plugin's `sqlite` tuning: `mmapSize` (the benchmark's table-size servers),
   * `crossProcessCheckMs` (default 5; the G6 process test also runs 0), `backgroundCheckpoint`
   * (default true; the benchmark compares both).
   */
  sqlite?: FastifyOAuthToolkitOptions['sqlite']
}

/**
 * The toolkit settings of the example app: the server registers the plugin with them, and
 * `npm run example -- check` checks them.
 */
export function exampleSettings (options: Pick<ExampleAppOptions, 'oidcPrivateKey' | 'issuer' | 'settings' | 'cimd'>): SettingsInput {
  return {
    scopes: options.oidcPrivateKey === undefined
      ? { read: 'Reading scope', write: 'Writing scope' }
      : { openid: 'Sign you in', profile: 'Your user name', read: 'Reading scope', write: 'Writing scope' },
    oidcEnabled: options.oidcPrivateKey !== undefined,
    // RP-Initiated Logout at /o/logout/: the toolkit validates, the app ends its session below.
    oidcRpInitiatedLogoutEnabled: options.oidcPrivateKey !== undefined,
    // A request without a scope gets read and write; signing in is asked for explicitly (`openid`).
    defaultScopes: ['read', 'write'],
    // The password grant is off by default (RFC 9700 forbids it); tutorial part 3 uses it to
    // show user-bound tokens with curl alone (part 1 gets them through the consent page).
    passwordGrantEnabled: true,
    // RFC 8628: TVs and CLIs get a user code, the user approves at /o/device/, the device polls /o/token/.
    deviceFlowEnabled: true,
    // A refresh token unused for 30 days dies, and `cleartokens` can then remove it (DOT keeps
    // them forever by default; `fastify-oauth-toolkit check` warns about that).
    refreshTokenExpireSeconds: 30 * 24 * 3600,
    // RFC 9207: authorization responses name the issuer, so a client talking to several
    // authorization servers cannot be tricked into sending one's code to another (mix-up).
    authorizationResponseIss: true,
    // RFC 9449 DPoP: a client that sends proofs gets tokens bound to its key, useless to anyone
    // who steals them. Proofs name this server's URL, taken from the issuer (never from the
    // Host header), so DPoP is on whenever the issuer is fixed, as `npm start` fixes it.
    ...(options.issuer === undefined ? {} : { issuer: options.issuer, dpopEnabled: true }),
    // draft-ietf-oauth-client-id-metadata-document: MCP-style clients name themselves by the URL
    // of their metadata; the consent page then says which host published what it shows.
    ...(options.cimd?.enabled === true ? { cimdEnabled: true, cimdAllowedHosts: [...options.cimd.allowedHosts] } : {}),
    ...options.settings,
  }
}

/** Builds the example app (not listening yet). */
export async function buildExampleApp (options: ExampleAppOptions): Promise<FastifyInstance> {
  // The toolkit's serializers keep tokens and codes in URLs out of every request log.
  const logger: FastifyServerOptions['logger'] = options.logger === true ? { serializers: oauthLogSerializers } : false
  // Plugins load while the server starts, migrations of a new database included: Fastify's 10 s
  // for each is short for a first start against a remote or busy PostgreSQL.
  const app = Fastify({ logger, pluginTimeout: 60_000, ...(options.trustProxy === undefined ? {} : { trustProxy: [...options.trustProxy] }) })
  // The example app serves plain http: an https issuer means a proxy in front of it, which must be
  // trusted, or every client has the proxy's address and one guesser's failures refuse them all.
  if (options.issuer?.startsWith('https:') === true && options.trustProxy === undefined) {
    app.log.warn('ISSUER is https but TRUST_PROXY is unset: set TRUST_PROXY to the address of the TLS-terminating proxy, or every client shares its address for the rate limits and the session cookie is not Secure')
  }
  // On PostgreSQL one pool serves the toolkit and the users. The toolkit leaves a pool it is
  // given open, so the app ends it when it closes.
  let pool: pg.Pool | null = null
  if (isPostgresUrl(options.databasePath)) {
    const created = new pg.Pool({ connectionString: options.databasePath, max: 10 })
    created.on('error', (err) => { app.log.warn({ err }, 'idle PostgreSQL connection lost') })
    app.addHook('onClose', async () => { await created.end() })
    pool = created
  }
  const users = await openUserStore(pool ?? options.databasePath)
  app.addHook('onClose', async () => { await users.close() })

  await registerAccounts(app, users, options.secret)
  await app.register(fastifyOAuthToolkit, {
    database: pool ?? options.databasePath,
    migrate: true,
    ...(options.sqlite === undefined ? {} : { sqlite: options.sqlite }),
    settings: exampleSettings(options),
    verifyUserCredentials: async (username, password) => await users.verify(username, password),
    loadUser: async (userId) => await users.find(userId),
    // The authorization pages ask the session who is logged in; anonymous users go to the login page.
    resolveUser: sessionUser,
    loginUrl: '/accounts/login/',
    logoutUser: async (request) => { await request.session.destroy() },
    // OpenID Connect: RS256 (what every relying party supports, the default) and ES256 for
    // applications registered with `--algorithm ES256`; the claims UserInfo returns for `profile`.
    ...(options.oidcPrivateKey === undefined
      ? {}
      : {
          oidc: {
            privateKey: options.oidcPrivateKey,
            ...(options.oidcEs256Key === undefined ? {} : { signingKeys: [{ alg: 'ES256' as const, privateKey: options.oidcEs256Key }] }),
            getUserClaims: async (userId: string) => {
              const user = await users.find(userId)
              return user === null ? null : { preferred_username: user.username }
            },
          },
        }),
    ...(options.secret === undefined ? {} : { secret: options.secret }),
    ...(options.clientSecretSealingKey === undefined ? {} : { clientSecretSealingKey: options.clientSecretSealingKey }),
  })
  // DOT's management pages for every user, and the staff administration pages (alice: accounts.ts).
  await app.register(oauthRoutes, { prefix: '/o', managementPages: true, adminPages: true })
  // An audit log (docs/events.md): one line per OAuth event through the app's logger, ids and
  // facts only. appAuthorized is left out: it carries the stored rows, checksums included.
  const audit = app.log.child({ audit: 'oauth' })
  for (const event of TOOLKIT_EVENT_NAMES) {
    if (event === 'appAuthorized') continue
    app.oauth.events.on(event, (payload: object) => { audit.info({ event, ...payload }, `oauth ${event}`) })
  }
  // RFC 8414 metadata at the origin root (/.well-known/oauth-authorization-server/o), as a real
  // deployment serves it next to OpenID Connect discovery (/o/.well-known/openid-configuration).
  await app.register(oauthMetadata, { routesPrefix: '/o' })
  await app.register(HelloView.asView('/api/hello'))
  await app.register(MeView.asView('/api/me'))
  return app
}
