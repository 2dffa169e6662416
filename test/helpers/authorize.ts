// Shared by the authorization endpoint and authorization_code tests (and anyone driving the
// consent page through app.inject). Not a test file: tap runs *.test.ts only.
import { createHash } from 'node:crypto'
import Database from 'better-sqlite3'
import type { FastifyInstance, FastifyRequest, LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import type { ApplicationInput, CreatedApplication } from '../../lib/applications.js'
import { ALICE, basicAuth, buildApp, createApplication, databasePath, FORM, form, postToken, type BuildAppOptions, type TokenBody } from './index.js'

/** The header `resolveUser` reads the logged-in user's id from (absent or empty: anonymous). */
export const USER_HEADER = 'x-test-user'

/** The redirect URI `createCodeApplication` registers. */
export const REDIRECT_URI = 'https://client.example.com/cb'

/** A `resolveUser` that trusts `x-test-user` (tests only: the host app's session does this for real). */
export function headerUser (request: FastifyRequest): { id: string } | null {
  const value = request.headers[USER_HEADER]
  return typeof value === 'string' && value !== '' ? { id: value } : null
}

/**
 * Core plugin options for the pages a user logs in to: `resolveUser` reads `x-test-user`, and a
 * fixed CSRF secret. `buildAuthorizeApp` uses them; so do tests that build their own Fastify instance.
 */
export const LOGIN_OPTIONS = { resolveUser: headerUser, secret: 'a-test-secret-of-at-least-32-characters' } as const

/** `buildApp` with `LOGIN_OPTIONS`. */
export async function buildAuthorizeApp (t: Test, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  return await buildApp(t, { ...LOGIN_OPTIONS, ...options })
}

/** A confidential authorization-code application redirecting to `REDIRECT_URI` (unless overridden). */
export async function createCodeApplication (app: FastifyInstance, overrides: Partial<ApplicationInput> = {}): Promise<CreatedApplication> {
  return await createApplication(app, { authorizationGrantType: 'authorization-code', redirectUris: [REDIRECT_URI], ...overrides })
}

/** A PKCE pair (RFC 7636): a 43-character verifier and its S256 challenge. */
export function pkcePair (seed = 'verifier'): { verifier: string, challenge: string } {
  const verifier = createHash('sha256').update(seed).digest('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

/** Parameters of an authorization request; arrays repeat the parameter. */
export type AuthorizeParams = Record<string, string | readonly string[]>

/**
 * A code-flow authorization request from `client` (a client id, or the application) to
 * `REDIRECT_URI`, with `state=xyz` and the S256 challenge of `pkcePair()`; `extra` adds or replaces
 * parameters.
 */
export function codeRequest (client: string | CreatedApplication, extra: AuthorizeParams = {}): AuthorizeParams {
  const clientId = typeof client === 'string' ? client : client.application.clientId
  return {
    response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, state: 'xyz', code_challenge: pkcePair().challenge, code_challenge_method: 'S256', ...extra,
  }
}

/** An authorization app (`buildAuthorizeApp`) with one confidential code client (`createCodeApplication`). */
export async function setupCodeClient (t: Test, options: BuildAppOptions = {}): Promise<{ app: FastifyInstance, created: CreatedApplication, clientId: string }> {
  const app = await buildAuthorizeApp(t, options)
  const created = await createCodeApplication(app)
  return { app, created, clientId: created.application.clientId }
}

/** `/o/authorize/?…` with the parameters form-encoded in the query. */
export function authorizeUrl (params: AuthorizeParams, path = '/o/authorize/'): string {
  return `${path}?${form(params)}`
}

/** Request headers for `user` (anonymous when `null`), plus any extra headers. */
export function asUser (user: string | null, headers: Record<string, string> = {}): Record<string, string> {
  return user === null ? headers : { [USER_HEADER]: user, ...headers }
}

/** GETs the authorization endpoint as `user` (default `ALICE.id`; `null` is anonymous). */
export async function getAuthorize (app: FastifyInstance, params: AuthorizeParams, user: string | null = ALICE.id,
  headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'GET', url: authorizeUrl(params), headers: asUser(user, headers) })
}

/** What the consent page carries: the form's action, its hidden fields and the browser's CSRF cookie. */
export interface ConsentForm {
  readonly action: string
  /** Every hidden input, `csrf_token` included, HTML-unescaped. */
  readonly fields: Record<string, string>
  /** `oat_csrf=<value>`, ready for a `Cookie` header. */
  readonly cookie: string
}

const ENTITIES: Readonly<Record<string, string>> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&#96;': '`' }

/** Reverses `escapeHtml`. */
export function unescapeHtml (value: string): string {
  return value.replace(/&(?:amp|lt|gt|quot|#39|#96);/g, (entity) => ENTITIES[entity] ?? entity)
}

/** The `oat_csrf=…` pair a response set, or `undefined`. */
export function csrfCookieOf (res: LightMyRequestResponse): string | undefined {
  const header = res.headers['set-cookie']
  const all = header === undefined ? [] : Array.isArray(header) ? header : [String(header)]
  const found = all.map((c) => c.split(';')[0] ?? '').find((c) => c.startsWith('oat_csrf='))
  return found
}

/** Parses a consent page; throws when `res` is not one. */
export function parseConsent (res: LightMyRequestResponse, cookie?: string): ConsentForm {
  if (res.statusCode !== 200) throw new Error(`expected the consent page, got ${res.statusCode}: ${res.body}`)
  const action = /<form method="post" action="([^"]*)">/.exec(res.body)?.[1]
  if (action === undefined) throw new Error('no form on the consent page')
  const fields: Record<string, string> = {}
  for (const m of res.body.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    fields[unescapeHtml(m[1] ?? '')] = unescapeHtml(m[2] ?? '')
  }
  const set = csrfCookieOf(res) ?? cookie
  if (set === undefined) throw new Error('the consent page set no CSRF cookie')
  return { action: unescapeHtml(action), fields, cookie: set }
}

/** Fetches the consent page as `user`; `cookie` is a CSRF cookie the browser already holds. */
export async function fetchConsent (app: FastifyInstance, params: AuthorizeParams, user: string = ALICE.id, cookie?: string): Promise<ConsentForm> {
  const res = await getAuthorize(app, params, user, cookie === undefined ? {} : { cookie })
  return parseConsent(res, cookie)
}

/** Options of `postDecision`. */
export interface DecisionOptions {
  /** Approve (default) or cancel. */
  allow?: boolean
  /** Who posts (default `ALICE.id`; `null` is anonymous). */
  user?: string | null
  /** The `Cookie` header (default: the consent page's CSRF cookie; `''` sends none). */
  cookie?: string
  /** Fields to change; `undefined` removes one. */
  fields?: Record<string, string | undefined>
}

/** POSTs the consent form back, the way the browser would. */
export async function postDecision (app: FastifyInstance, consent: ConsentForm, options: DecisionOptions = {}): Promise<LightMyRequestResponse> {
  const fields: Record<string, string> = { ...consent.fields }
  for (const [name, value] of Object.entries(options.fields ?? {})) {
    if (value === undefined) delete fields[name]
    else fields[name] = value
  }
  if (options.allow === false) fields.cancel = '1'
  else fields.allow = 'Authorize'
  const cookie = options.cookie ?? consent.cookie
  const headers = asUser(options.user === undefined ? ALICE.id : options.user, { ...FORM, ...(cookie === '' ? {} : { cookie }) })
  return await app.inject({ method: 'POST', url: consent.action, payload: form(fields), headers })
}

/** The parameters in a redirect's query (or fragment), as a plain object; throws without `Location`. */
export function redirectParams (res: LightMyRequestResponse, part: 'query' | 'fragment' = 'query'): Record<string, string> {
  const location = res.headers.location
  if (typeof location !== 'string') throw new Error(`expected a redirect, got ${res.statusCode}: ${res.body}`)
  const url = new URL(location)
  const raw = part === 'query' ? url.search : url.hash
  return Object.fromEntries(new URLSearchParams(raw.slice(1)))
}

/** The `Location` without its query and fragment. */
export function redirectBase (res: LightMyRequestResponse): string {
  const location = String(res.headers.location)
  return location.replace(/[?#].*$/s, '')
}

/** Runs the browser side of the code flow (consent page unless skipped, approve) and returns the code. */
export async function obtainCode (app: FastifyInstance, params: AuthorizeParams, user: string = ALICE.id): Promise<string> {
  const page = await getAuthorize(app, params, user)
  const res = page.statusCode === 302 ? page : await postDecision(app, parseConsent(page), { user })
  const code = res.statusCode === 302 ? redirectParams(res).code : undefined
  if (code === undefined) throw new Error(`no code: ${res.statusCode} ${String(res.headers.location)} ${res.body}`)
  return code
}

/** The client half of a code exchange: a confidential client's credentials, or a public client's id. */
export interface CodeClient {
  readonly clientId: string
  readonly clientSecret: string | null
}

/** `client` of a `CreatedApplication`. */
export function codeClient (created: CreatedApplication): CodeClient {
  return { clientId: created.application.clientId, clientSecret: created.clientSecret }
}

/** POSTs `grant_type=authorization_code`; confidential clients use Basic, public ones send `client_id`. */
export async function exchangeCode (app: FastifyInstance, client: CodeClient, code: string | readonly string[],
  extra: Record<string, string | readonly string[]> = {}): Promise<LightMyRequestResponse> {
  const params: Record<string, string | readonly string[]> = { grant_type: 'authorization_code', code, ...extra }
  if (client.clientSecret === null) return await postToken(app, { client_id: client.clientId, ...params })
  return await postToken(app, params, { authorization: basicAuth(client.clientId, client.clientSecret) })
}

/** Authorizes with PKCE, approves as `user` and exchanges the code; returns the token body. */
export async function codeFlowTokens (app: FastifyInstance, created: CreatedApplication, options: { scope?: string, user?: string } = {}): Promise<TokenBody> {
  const { verifier, challenge } = pkcePair()
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: created.application.clientId,
    redirect_uri: created.application.redirectUris[0] ?? '',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }
  if (options.scope !== undefined) params.scope = options.scope
  const code = await obtainCode(app, params, options.user ?? ALICE.id)
  const res = await exchangeCode(app, codeClient(created), code, { redirect_uri: params.redirect_uri ?? '', code_verifier: verifier })
  if (res.statusCode !== 200) throw new Error(`code exchange failed: ${res.body}`)
  return res.json<TokenBody>()
}

/** The toolkit's tables, for `countRows`. */
export type TokenTable = 'oauth2_grant' | 'oauth2_accesstoken' | 'oauth2_refreshtoken'

/**
 * Rows in one of the app's tables, read through a second connection to the SQLite file of the app
 * `buildApp` made for test `t`, or to the file `t` names.
 */
export function countRows (t: Test | string, table: TokenTable): number {
  const db = new Database(typeof t === 'string' ? t : databasePath(t), { readonly: true })
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n
  } finally {
    db.close()
  }
}

/** RFC 6749 §4.1.2.1: shown to the user, never redirected; framing and referrers off (UI-3, LEAK-2). */
export function assertFatalPage (t: Test, res: LightMyRequestResponse, description: string, message = description, code = 'invalid_request'): void {
  t.equal(res.statusCode, 400, `${message}: status`)
  t.equal(res.headers.location, undefined, `${message}: no Location`)
  t.match(res.headers['content-type'], /^text\/html; charset=utf-8/, `${message}: HTML`)
  t.equal(res.headers['x-frame-options'], 'DENY', `${message}: X-Frame-Options`)
  t.match(res.headers['content-security-policy'], /frame-ancestors 'none'/, `${message}: CSP`)
  t.equal(res.headers['referrer-policy'], 'no-referrer', `${message}: Referrer-Policy`)
  t.equal(res.headers['cache-control'], 'no-store', `${message}: Cache-Control`)
  t.match(res.body, `<code>${code}</code>`, `${message}: error code`)
  t.match(res.body, description, `${message}: description`)
  t.notMatch(res.body, 'client.example.com', `${message}: registered URIs are never listed`)
  t.notMatch(res.body, 'code=', `${message}: no code`)
}

/** No CR or LF in any response header (RURI-3). */
export function assertCleanHeaders (t: Test, res: LightMyRequestResponse, message: string): void {
  for (const [name, value] of Object.entries(res.headers)) {
    t.notMatch(String(value), /[\r\n]/, `${message}: header ${name} has no CR/LF`)
  }
}

/** A redirect error (§4.1.2.1): 302 to the registered URI with exactly these parameters. */
export function assertRedirectError (t: Test, res: LightMyRequestResponse, expected: Record<string, string>,
  options: { base?: string, part?: 'query' | 'fragment' } = {}): void {
  t.equal(res.statusCode, 302, `${expected.error ?? ''}: 302`)
  t.equal(redirectBase(res), options.base ?? REDIRECT_URI, 'to the registered redirect URI')
  t.same(redirectParams(res, options.part ?? 'query'), expected)
}
