// Shared by the OpenID Connect tests. Not a test file: tap runs *.test.ts only.
import { generateKeyPairSync } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { createLocalJWKSet, jwtVerify, type JWTPayload, type JWTVerifyResult } from 'jose'
import type { Test } from 'tap'
import type { CreatedApplication } from '../../lib/applications.js'
import type { SettingsInput } from '../../lib/settings.js'
import { ALICE, buildAuthorizeApp, codeClient, createCodeApplication, exchangeCode, obtainCode, pkcePair } from '../helpers/authorize.js'
import type { BuildAppOptions, TokenBody } from '../helpers/index.js'

/** The issuer the OIDC tests configure. */
export const ISSUER = 'https://auth.example.com/o'

/** A fresh 2048-bit RSA private key as a PKCS#8 PEM (tests make their own keys; none is committed). */
export function newRsaPem (): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
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
  const { settings, ...rest } = options
  return await buildAuthorizeApp(t, { oidc: { privateKey: newRsaPem() }, ...rest, settings: oidcSettings(settings) })
}

/** A token response with an ID token. */
export interface OidcTokenBody extends TokenBody {
  id_token?: string
}

/** Runs the code flow with PKCE (plus `extra` authorization parameters) and returns the token body. */
export async function oidcCodeFlow (app: FastifyInstance, created: CreatedApplication, extra: Record<string, string> = {}, user = ALICE): Promise<OidcTokenBody> {
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
