import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { Clock } from '../lib/clock.js'
import type { GetIdTokenClaims, GetUserClaims, VerifyUserCredentials } from '../lib/context.js'
import { ImproperlyConfiguredError } from '../lib/errors.js'
import { cryptoRandom, type Random } from '../lib/random.js'
import { createOAuthServer, type OAuthServer } from '../lib/server.js'
import type { SettingsInput } from '../lib/settings.js'
import type { DatabaseOption } from '../lib/store/connection.js'
import { openStore, type SqliteOptions } from '../lib/store/open.js'
import type { Store } from '../lib/store/types.js'
import type { SealingKey, SealingKeyInput } from '../lib/tokens/client-secret-seal.js'
import type { SafeFetchOptions as OutboundHttpOptions } from '../lib/http/safe-fetch.js'
import type { SecretHasher } from '../lib/tokens/secret-hasher.js'
import { loadSigningKeys, type OidcKeyOptions, type SigningKeys } from '../lib/tokens/signing-keys.js'
import './augment.js'
import { rejectUnknownKeys, rejectUnknownOptions, type OptionNames } from '../lib/option-keys.js'
import { prepareClientFailureLimits } from '../views/rate-limit.js'
import { createToolkit, type LoadUser, type LogoutUser, type ResolveUser } from './toolkit.js'
import { DEFAULT_TEMPLATES, type Templates } from '../views/templates/index.js'
import { buildLanguages } from '../lib/i18n/languages.js'
import type { I18nOptions } from '../views/i18n.js'

/** Options of the core plugin. Give either `database` or `store`. */
export interface FastifyOAuthToolkitOptions {
  /**
   * The database: a SQLite file path, `':memory:'`, a `sqlite:`/`file:` URL or an open
   * better-sqlite3 database; or PostgreSQL, as a `postgres://` URL or a `pg.Pool` (install the
   * `pg` package for PostgreSQL; SQLite needs nothing more). The plugin closes what it opened
   * when the app closes; a given database or pool stays open.
   */
  database?: DatabaseOption | undefined
  /** A ready `Store` (for example a PostgreSQL one); the caller owns and closes it. */
  store?: Store | undefined
  /** Apply pending migrations at start (default false; see the CLI's `migrate`). */
  migrate?: boolean | undefined
  /**
   * SQLite only (a `database` the plugin opens or adopts), ignored for PostgreSQL:
   * `mmapSize`, bytes of the file to memory-map (default none; flat verification on large
   * token tables, at the cost of RSS and SIGBUS on I/O errors); `crossProcessCheckMs`, how long
   * one look for other processes' revocations on the same file stands (default 5; `0`: the next
   * request sees them); `backgroundCheckpoint`, WAL checkpoints in a worker thread (default
   * `true`). See `SqliteStoreOptions` and docs/deployment.md.
   * @example
   * { database: './oauth.sqlite3', sqlite: { mmapSize: 1 << 30 } }
   */
  sqlite?: SqliteOptions | undefined
  /** Settings; DOT's defaults fill in the rest. */
  settings?: SettingsInput | undefined
  /** Loads the user a token speaks for, for `request.resourceOwner`. */
  loadUser?: LoadUser | undefined
  /** Checks username and password for the password grant. */
  verifyUserCredentials?: VerifyUserCredentials | undefined
  /**
   * Who is logged in on a browser request, for the authorization (consent) pages: resolve
   * `{ id }` (and optionally `authTime`) or `null` for anonymous visitors.
   */
  resolveUser?: ResolveUser | undefined
  /** Ends the host's session, for OpenID Connect RP-Initiated Logout (`oidcRpInitiatedLogoutEnabled`). */
  logoutUser?: LogoutUser | undefined
  /** Where anonymous users are sent to log in, with `?next=<the original URL>` (DOT's `LOGIN_URL`; default `/accounts/login/`). */
  loginUrl?: string | undefined
  /**
   * Key for the CSRF tokens of the toolkit's forms, at least 32 characters. Without it a random
   * key is drawn per process, which is fine for one instance; set it when several instances
   * serve the same users behind a load balancer.
   */
  secret?: string | undefined
  /**
   * OpenID Connect (with the `oidcEnabled` setting) and JWT access tokens: the private keys that
   * sign (`privateKey`, an RSA key for RS256, and/or `signingKeys` for PS256, ES256, EdDSA; PEM
   * or JWK), retired keys still published in the JWKS, and the host's claims for UserInfo and
   * ID tokens. Keys are options, not settings: settings are plain data that may be logged.
   */
  oidc?: OidcOptions | undefined
  /**
   * Key(s) that seal the client secrets of HS256 applications (AES-256-GCM; see docs/oidc.md):
   * 32 random bytes as hex, base64url or a Uint8Array (`fastify-oauth-toolkit generatekey
   * --sealing` prints one); a list rotates (the first seals, all open). Without it, applications
   * cannot use HS256. An option, not a setting, for the same reason as the signing keys.
   */
  clientSecretSealingKey?: SealingKeyInput | undefined
  /**
   * The key DPoP server nonces are MACed with (the `dpopNonceRequired` setting, RFC 9449 §8):
   * 32 random bytes as hex, base64url or a Uint8Array, the same on every instance. Without it a
   * key is derived from `clientSecretSealingKey`; with neither, `dpopNonceRequired` fails here.
   */
  dpopNonceKey?: SealingKey | undefined
  /**
   * Bearer tokens that may register clients at `{prefix}/register/` when the
   * `dcrRegistrationPolicy` setting is `initial-access-token` (RFC 7591 §3), each at least 32
   * characters. Only their checksums are kept; they are compared in constant time.
   */
  initialAccessTokens?: readonly string[] | undefined
  /**
   * The outbound HTTP client that fetches URLs clients register (a `private_key_jwt` client's
   * `jwks_uri`): https only, public addresses only (checked after resolving the name, so DNS
   * rebinding cannot reach the internal network), no redirects, `maxBytes` (64 KiB) and
   * `timeoutMs` (5000) by default. `allowHttp` and `allowPrivateAddresses` are for tests and
   * local development only; `ca` trusts a test server's certificate (PEM).
   */
  outboundHttp?: OutboundHttpOptions | undefined
  /** Replacements for the built-in HTML templates (consent page, error page). */
  templates?: Partial<Templates> | undefined
  /**
   * The languages of the toolkit's pages (docs/i18n.md): English and French ship, chosen from
   * the browser's `Accept-Language` unless `resolveLocale` decides; add a language or override
   * any message with `messages`. Nothing to configure for English and French.
   * @example
   * { i18n: { messages: { en: { 'consent.intro': 'This app asks to:' } }, resolveLocale: (request) => request.session.get('lang') } }
   */
  i18n?: I18nOptions | undefined
  /** Injected time source (tests). */
  clock?: Clock | undefined
  /** Injected randomness (tests). */
  random?: Random | undefined
  /** Injected secret hasher (tests, or different KDF costs). */
  hasher?: SecretHasher | undefined
}

/** The `oidc` option of the core plugin. */
export interface OidcOptions extends OidcKeyOptions {
  /** The user's claims for UserInfo, filtered by the token's scopes (OIDC Core §5.4); without it UserInfo returns `sub` only. */
  getUserClaims?: GetUserClaims | undefined
  /**
   * Extra claims for ID tokens (roles, tenant; DOT's `get_additional_claims`), filtered like
   * UserInfo's; the protocol claims (`RESERVED_ID_TOKEN_CLAIMS`) cannot be set and are dropped.
   * Without it ID tokens carry the protocol claims only.
   */
  getIdTokenClaims?: GetIdTokenClaims | undefined
}

/** The keys of the `oidc` option, checked against `OidcOptions` by the compiler. */
const OIDC_OPTION_NAMES: OptionNames<OidcOptions> = { privateKey: true, signingKeys: true, inactiveKeys: true, getUserClaims: true, getIdTokenClaims: true }

function optionError (message: string): never {
  throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', `fastify-oauth-toolkit: ${message}`)
}

/** Options that were renamed, with their new names: an old name fails with the new one, never in silence. */
const RENAMED_OPTIONS: Readonly<Record<string, string>> = {
  sqliteMmapSize: 'sqlite: { mmapSize }',
  sqliteCrossProcessCheckMs: 'sqlite: { crossProcessCheckMs }',
  sqliteBackgroundCheckpoint: 'sqlite: { backgroundCheckpoint }',
}

/** The keys of the `i18n` option, checked against `I18nOptions` by the compiler. */
const I18N_OPTION_NAMES: OptionNames<I18nOptions> = { languages: true, messages: true, resolveLocale: true, timeZone: true }

/** Checks the `i18n` option's shape; the languages themselves are checked by `buildLanguages`. */
function checkI18nOption (i18n: unknown): void {
  if (i18n === undefined) return
  if (i18n === null || typeof i18n !== 'object' || Array.isArray(i18n)) optionError('`i18n` must be an object ({ languages, messages, resolveLocale, timeZone })')
  rejectUnknownKeys('fastifyOAuthToolkit `i18n`', i18n, Object.keys(I18N_OPTION_NAMES))
  const { resolveLocale, timeZone } = i18n as Record<string, unknown>
  if (resolveLocale !== undefined && typeof resolveLocale !== 'function') optionError('`i18n.resolveLocale` must be a function')
  if (timeZone !== undefined && typeof timeZone !== 'string') optionError('`i18n.timeZone` must be an IANA time zone name such as "Europe/Paris"')
}

/** The keys of the `sqlite` option, checked against `SqliteOptions` by the compiler. */
const SQLITE_OPTION_NAMES: OptionNames<SqliteOptions> = { mmapSize: true, crossProcessCheckMs: true, backgroundCheckpoint: true }

/** Checks the `sqlite` option's shape and values (the store checks them again, with its own names). */
function checkSqliteOption (sqlite: unknown): void {
  if (sqlite === undefined) return
  if (sqlite === null || typeof sqlite !== 'object' || Array.isArray(sqlite)) optionError('`sqlite` must be an object ({ mmapSize, crossProcessCheckMs, backgroundCheckpoint })')
  rejectUnknownKeys('fastifyOAuthToolkit `sqlite`', sqlite, Object.keys(SQLITE_OPTION_NAMES))
  const { mmapSize, crossProcessCheckMs, backgroundCheckpoint } = sqlite as Record<string, unknown>
  if (mmapSize !== undefined && (typeof mmapSize !== 'number' || !Number.isSafeInteger(mmapSize) || mmapSize < 0)) {
    optionError('`sqlite.mmapSize` must be a non-negative integer (bytes)')
  }
  if (crossProcessCheckMs !== undefined && (typeof crossProcessCheckMs !== 'number' || !Number.isFinite(crossProcessCheckMs) || crossProcessCheckMs < 0)) {
    optionError('`sqlite.crossProcessCheckMs` must be a non-negative number (milliseconds)')
  }
  if (backgroundCheckpoint !== undefined && typeof backgroundCheckpoint !== 'boolean') optionError('`sqlite.backgroundCheckpoint` must be true or false')
}

/** The keys of the `outboundHttp` option, checked against `OutboundHttpOptions` by the compiler. */
const OUTBOUND_OPTION_NAMES: OptionNames<OutboundHttpOptions> = { allowHttp: true, allowPrivateAddresses: true, ca: true, maxBytes: true, timeoutMs: true }

/** Checks the `outboundHttp` option's shape and values. */
function checkOutboundHttpOption (outbound: unknown): void {
  if (outbound === undefined) return
  if (outbound === null || typeof outbound !== 'object' || Array.isArray(outbound)) optionError('`outboundHttp` must be an object ({ allowHttp, allowPrivateAddresses, ca, maxBytes, timeoutMs })')
  rejectUnknownKeys('fastifyOAuthToolkit `outboundHttp`', outbound, Object.keys(OUTBOUND_OPTION_NAMES))
  const { allowHttp, allowPrivateAddresses, ca, maxBytes, timeoutMs } = outbound as Record<string, unknown>
  for (const [name, value] of [['allowHttp', allowHttp], ['allowPrivateAddresses', allowPrivateAddresses]] as const) {
    if (value !== undefined && typeof value !== 'boolean') optionError(`\`outboundHttp.${name}\` must be true or false`)
  }
  const pem = (v: unknown): boolean => typeof v === 'string' || Buffer.isBuffer(v)
  if (ca !== undefined && !pem(ca) && !(Array.isArray(ca) && ca.every(pem))) optionError('`outboundHttp.ca` must be PEM text, a Buffer, or a list of them')
  for (const [name, value] of [['maxBytes', maxBytes], ['timeoutMs', timeoutMs]] as const) {
    if (value !== undefined && (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)) optionError(`\`outboundHttp.${name}\` must be a positive integer`)
  }
}

/** Every option's name, checked against `FastifyOAuthToolkitOptions` by the compiler. */
const OPTION_NAMES: OptionNames<FastifyOAuthToolkitOptions> = {
  database: true,
  store: true,
  migrate: true,
  sqlite: true,
  settings: true,
  loadUser: true,
  verifyUserCredentials: true,
  resolveUser: true,
  logoutUser: true,
  loginUrl: true,
  secret: true,
  oidc: true,
  clientSecretSealingKey: true,
  dpopNonceKey: true,
  initialAccessTokens: true,
  outboundHttp: true,
  templates: true,
  i18n: true,
  clock: true,
  random: true,
  hasher: true,
}

const plugin: FastifyPluginAsync<FastifyOAuthToolkitOptions> = async (app, options) => {
  // fastify-plugin lets a second registration reach the same instance; say so instead of Fastify's "decorator already added".
  if (app.hasDecorator('oauth') || app.hasDecorator('oauthResource')) optionError('fastifyOAuthToolkit is registered twice on this instance (or alongside resourceServer); register it once, before oauthRoutes and the views')
  rejectUnknownOptions('fastifyOAuthToolkit', options, Object.keys(OPTION_NAMES), RENAMED_OPTIONS)
  if ((options.database === undefined) === (options.store === undefined)) {
    // `database: process.env.DATABASE_URL` with the variable unset is the usual way to get here.
    optionError(options.database === undefined && options.store === undefined && 'database' in options
      ? '`database` is undefined (an unset environment variable?): give a SQLite path, \':memory:\', a postgres:// URL, an open better-sqlite3 Database or a pg.Pool, or a `store`'
      : 'give exactly one of `database` or `store`')
  }
  if (options.loginUrl !== undefined && (typeof options.loginUrl !== 'string' || !options.loginUrl.startsWith('/') || /[\s\\]/.test(options.loginUrl))) {
    optionError('`loginUrl` must be a path starting with "/"')
  }
  if (options.secret !== undefined && (typeof options.secret !== 'string' || options.secret.length < 32)) {
    optionError('`secret` must be a string of at least 32 characters')
  }
  for (const name of ['loadUser', 'verifyUserCredentials', 'resolveUser', 'logoutUser'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') optionError(`\`${name}\` must be a function`)
  }
  if (options.oidc !== undefined) {
    if (options.oidc === null || typeof options.oidc !== 'object' || Array.isArray(options.oidc)) optionError('`oidc` must be an object ({ privateKey, signingKeys, inactiveKeys, getUserClaims, getIdTokenClaims })')
    rejectUnknownKeys('fastifyOAuthToolkit `oidc`', options.oidc, Object.keys(OIDC_OPTION_NAMES))
    for (const name of ['getUserClaims', 'getIdTokenClaims'] as const) {
      if (options.oidc[name] !== undefined && typeof options.oidc[name] !== 'function') optionError(`\`oidc.${name}\` must be a function`)
    }
  }
  checkI18nOption(options.i18n)
  const languages = buildLanguages(options.i18n)
  for (const [tag, missing] of languages.incomplete) {
    app.log.warn(`fastify-oauth-toolkit: i18n: the "${tag}" messages lack ${missing.length} key(s), shown in English: ${missing.join(', ')}`)
  }
  const keys: SigningKeys | null = options.oidc === undefined ? null : await loadSigningKeys(options.oidc)
  checkSqliteOption(options.sqlite)
  checkOutboundHttpOption(options.outboundHttp)
  const store = options.store ?? await openStore(options.database ?? '', {
    migrate: options.migrate === true,
    ...(options.sqlite === undefined ? {} : { sqlite: options.sqlite }),
  })
  let server: OAuthServer
  try {
    server = createOAuthServer({
      store,
      settings: options.settings,
      clock: options.clock,
      random: options.random,
      hasher: options.hasher,
      verifyUserCredentials: options.verifyUserCredentials,
      ...(options.clientSecretSealingKey === undefined ? {} : { clientSecretSealingKey: options.clientSecretSealingKey }),
      ...(options.dpopNonceKey === undefined ? {} : { dpopNonceKey: options.dpopNonceKey }),
      initialAccessTokens: options.initialAccessTokens,
      ...(options.outboundHttp === undefined ? {} : { outboundHttp: options.outboundHttp }),
      ...(keys === null ? {} : { oidc: { keys, getUserClaims: options.oidc?.getUserClaims ?? null, getIdTokenClaims: options.oidc?.getIdTokenClaims ?? null } }),
    })
    if (server.settings.oidcRpInitiatedLogoutEnabled && (!server.settings.oidcEnabled || options.logoutUser === undefined)) {
      optionError('oidcRpInitiatedLogoutEnabled needs oidcEnabled and a `logoutUser(request, reply)` option that ends the session')
    }
    if (server.settings.dcrEnabled && server.settings.dcrRegistrationPolicy === 'user' && options.resolveUser === undefined) {
      optionError('dcrRegistrationPolicy "user" needs a `resolveUser(request)` option')
    }
    if (server.settings.oidcEnabled && keys === null) optionError('the oidcEnabled setting needs `oidc: { privateKey }` (an RSA key; `fastify-oauth-toolkit generatekey` makes one) or `oidc: { signingKeys }`')
  } catch (err) {
    // A failed registration adds no onClose hook: close what we opened now, or it leaks.
    if (options.store === undefined) await store.close()
    throw err
  }
  // Without the issuer setting, discovery, the ID token `iss` and the device `verification_uri`
  // follow each request's Host header: fine on a developer's machine, a poisoning risk behind
  // shared caches and proxies (OpenID Connect Discovery §4.3, RFC 8414 §3.3). Said once, at start.
  if (server.settings.issuer === null && process.env.NODE_ENV === 'production') {
    app.log.warn('fastify-oauth-toolkit: the issuer setting is unset, so the issuer is taken from each request\'s Host header; ' +
      'set issuer to this server\'s public URL (e.g. https://auth.example.com/o)')
  }
  // A failing event listener (appAuthorized, tokenIssued, staffAction, …) must not fail the request; it is logged, with the event's name.
  server.events.on('error', (err, event) => { app.log.error({ err, event }, 'fastify-oauth-toolkit event listener failed') })
  // A logout token that could not be delivered after every attempt: the relying party may still
  // hold the user's session. Client and session ids only (no token, no host session id).
  server.events.on('backchannelLogout', (event) => {
    if (event.outcome === 'failed') {
      app.log.warn({ clientId: event.clientId, sid: event.sid, attempts: event.attempt, status: event.status, error: event.error }, 'back-channel logout token not delivered; giving up')
    }
  })
  const toolkit = createToolkit(server, {
    loadUser: options.loadUser ?? null,
    resolveUser: options.resolveUser ?? null,
    loginUrl: options.loginUrl ?? '/accounts/login/',
    logoutUser: options.logoutUser ?? null,
    secret: Buffer.from(options.secret ?? (options.random ?? cryptoRandom).token(32)),
    templates: { ...DEFAULT_TEMPLATES, ...options.templates },
    languages,
    resolveLocale: options.i18n?.resolveLocale ?? null,
  })
  app.decorate('oauth', toolkit)
  app.decorate('oauthResource', toolkit)
  app.decorateRequest('accessToken', null)
  app.decorateRequest('resourceOwner', null)
  app.decorateRequest('oauthClient', null)
  // The failure limits of client authentication, shared by the token-side endpoints, the views and
  // `app.oauth.authenticateClient`, ready before the first request.
  await prepareClientFailureLimits(app)
  // The back-channel logout outbox worker (Back-Channel Logout 1.0 §2.5), on unref'd timers.
  if (server.settings.oidcEnabled) app.addHook('onReady', async () => { server.startLogoutDelivery() })
  app.addHook('onClose', async () => {
    // Attempts in flight are interrupted and their rows put back before the store closes.
    await server.stopLogoutDelivery()
    server.close()
    if (options.store === undefined) await store.close()
  })
}

/**
 * The core plugin: validates options and settings at registration, opens the store and
 * decorates `app.oauth`, `request.accessToken` and `request.resourceOwner`.
 * @example
 * await app.register(fastifyOAuthToolkit, { database: 'oauth.db', migrate: true })
 */
export const fastifyOAuthToolkit = fp(plugin, { name: 'fastify-oauth-toolkit', fastify: '5.x' })
export default fastifyOAuthToolkit
