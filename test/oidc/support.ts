// Shared by the OpenID Connect tests. Not a test file: tap runs *.test.ts only.
import { generateKeyPairSync } from 'node:crypto'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { createLocalJWKSet, jwtVerify, type JWTPayload, type JWTVerifyResult } from 'jose'
import type { Test } from 'tap'
import type { CreatedApplication } from '../../lib/applications.js'
import type { SettingsInput } from '../../lib/settings.js'
import { buildAuthorizeApp, codeClient, createCodeApplication, exchangeCode, obtainCode, pkcePair } from '../helpers/authorize.js'
import { ALICE, type BuildAppOptions, type TokenBody } from '../helpers/index.js'

/** The issuer the OIDC tests configure. */
export const ISSUER = 'https://auth.example.com/o'

// Making a 2048-bit RSA key costs about 0.2 s of CPU, and the suite asks for dozens in each run.
// The keys made are kept (mode 0600) in the temporary directory and handed out again by later
// processes, each key at most once per process: every call in a process still gets a key no
// other app of that process has.
const KEY_POOL = join(tmpdir(), `oat-test-rsa-keys-${process.getuid?.() ?? 'user'}.json`)
const KEY_POOL_SIZE = 64
let keyPool: string[] | undefined
let keysHandedOut = 0

function loadKeyPool (): string[] {
  try {
    const keys: unknown = JSON.parse(readFileSync(KEY_POOL, 'utf8'))
    if (Array.isArray(keys) && keys.every((key) => typeof key === 'string' && key.startsWith('-----BEGIN PRIVATE KEY-----'))) return keys as string[]
  } catch {
    // No pool yet, or an unreadable one: start a new one.
  }
  return []
}

/** A 2048-bit RSA private key as a PKCS#8 PEM that no earlier call in this process returned (tests make their own keys; none is committed). */
export function newRsaPem (): string {
  keyPool ??= loadKeyPool()
  const index = keysHandedOut++
  const pooled = keyPool[index]
  if (pooled !== undefined) return pooled
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  if (index < KEY_POOL_SIZE) {
    // The keys this process handed out keep their places; keys other processes stored meanwhile
    // follow. Written whole under a temporary name, then renamed.
    const mine = [...keyPool.slice(0, index), pem]
    keyPool = [...mine, ...loadKeyPool().filter((key) => !mine.includes(key))].slice(0, KEY_POOL_SIZE)
    const partial = `${KEY_POOL}.${process.pid}`
    writeFileSync(partial, JSON.stringify(keyPool), { mode: 0o600 })
    renameSync(partial, KEY_POOL)
  }
  return pem
}

/** Settings with OIDC on, `openid` and the standard claim scopes known, and a fixed issuer. */
export function oidcSettings (settings: SettingsInput = {}): SettingsInput {
  return {
    oidcEnabled: true,
    issuer: ISSUER,
    scopes: { openid: 'OpenID Connect', profile: 'Your profile', email: 'Your email address', address: 'Your address', phone: 'Your phone number', read: 'Reading scope', write: 'Writing scope' },
    ...settings,
  }
}

/** `buildAuthorizeApp` with OIDC on and a key made for this app (unless `options.oidc` says otherwise). */
export async function buildOidcApp (t: Test, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const { settings, oidc, ...rest } = options
  // A key only when none is given: each one made costs the pool (or the CPU) a key.
  return await buildAuthorizeApp(t, { oidc: oidc ?? { privateKey: newRsaPem() }, ...rest, settings: oidcSettings(settings) })
}

/** A token response with an ID token. */
export interface OidcTokenBody extends TokenBody {
  id_token?: string
}

/** Runs the code flow with PKCE (plus `extra` authorization parameters) and returns the token body. */
export async function oidcCodeFlow (app: FastifyInstance, created: CreatedApplication, extra: Record<string, string> = {}, user: string = ALICE.id): Promise<OidcTokenBody> {
  const { verifier, challenge } = pkcePair()
  const redirectUri = created.application.redirectUris[0] ?? ''
  const code = await obtainCode(app, {
    response_type: 'code',
    client_id: created.application.clientId,
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    scope: 'openid',
    ...extra,
  }, user)
  const res = await exchangeCode(app, codeClient(created), code, { redirect_uri: redirectUri, code_verifier: verifier })
  if (res.statusCode !== 200) throw new Error(`code exchange failed: ${res.body}`)
  return res.json<OidcTokenBody>()
}

/** A confidential authorization-code application (re-exported for brevity). */
export const createOidcApplication = createCodeApplication

/** Verifies an ID token with jose against `jwks` (the served JWKS), at `now`, for `clientId`. */
export async function verifyIdToken (jwks: { keys: unknown[] }, token: string, clientId: string, now: Date, issuer = ISSUER): Promise<JWTVerifyResult<JWTPayload>> {
  return await jwtVerify(token, createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]), {
    issuer, audience: clientId, algorithms: ['RS256'], currentDate: now,
  })
}
