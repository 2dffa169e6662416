// DPoP test helpers: proofs made with jose (the client side of RFC 9449 §4), good and bad.
import { createHash, randomUUID } from 'node:crypto'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { buildApp, type BuildAppOptions } from '../helpers/index.js'

/** The issuer of the DPoP test apps: proofs' `htu` name its origin (app.inject's Host is `localhost:80`). */
export const ISSUER = 'http://localhost/o'
export const TOKEN_URL = `${ISSUER}/token/`
export const ORIGIN = 'http://localhost'

/** A client's DPoP key pair, its public JWK and thumbprint. */
export interface DpopKey {
  readonly privateKey: CryptoKey
  readonly publicJwk: JWK
  readonly alg: string
  readonly jkt: string
}

/** A fresh key pair (ES256 unless told), as a DPoP client holds one. */
export async function dpopKey (alg = 'ES256'): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const publicJwk = await exportJWK(publicKey)
  const { calculateJwkThumbprint } = await import('jose')
  return { privateKey, publicJwk, alg, jkt: await calculateJwkThumbprint(publicJwk, 'sha256') }
}

/** What a proof says; anything left out is right for the request. */
export interface ProofOptions {
  readonly htm?: string
  readonly htu?: string
  readonly iat?: number
  readonly jti?: string
  readonly nonce?: string
  /** The access token the proof is for (`ath`). */
  readonly accessToken?: string
  /** Replaces the protected header (`typ`, `jwk`, `alg`). */
  readonly header?: Record<string, unknown>
  /** Replaces or adds claims (`undefined` removes one). */
  readonly claims?: Record<string, unknown>
}

/** base64url(SHA-256(token)). */
export function ath (token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

/** A DPoP proof (RFC 9449 §4.2) signed with `key`. */
export async function proof (key: DpopKey, options: ProofOptions = {}): Promise<string> {
  const claims: Record<string, unknown> = {
    jti: options.jti ?? randomUUID(),
    htm: options.htm ?? 'POST',
    htu: options.htu ?? TOKEN_URL,
    iat: options.iat ?? Math.floor(Date.now() / 1000),
    ...(options.nonce === undefined ? {} : { nonce: options.nonce }),
    ...(options.accessToken === undefined ? {} : { ath: ath(options.accessToken) }),
    ...options.claims,
  }
  for (const [name, value] of Object.entries(claims)) if (value === undefined) Reflect.deleteProperty(claims, name)
  return await new SignJWT(claims)
    .setProtectedHeader({ typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk, ...options.header } as { alg: string })
    .sign(key.privateKey)
}

/** A compact JWS from raw parts, for what jose would refuse to sign (`alg: none`). */
export function unsignedJws (header: object, payload: object, signature = ''): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part(header)}.${part(payload)}.${signature}`
}

/** An app with DPoP on at `ISSUER`, a `/api/hello` route behind `protect()` and one behind a challenging `protect()`. */
export async function buildDpopApp (t: Test, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const { settings, ...rest } = options
  const app = await buildApp(t, { ...rest, settings: { issuer: ISSUER, dpopEnabled: true, ...settings } })
  app.get('/api/hello', { onRequest: app.oauth.protect() }, async (request) => ({ jkt: request.accessToken?.jkt ?? null }))
  app.get('/api/challenge', { onRequest: app.oauth.protect({ bearerChallenge: true }) }, async () => 'ok')
  app.get('/api/read', { onRequest: app.oauth.protect({ scopes: ['read'], bearerChallenge: true }) }, async () => 'ok')
  return app
}

/** `Authorization: DPoP <token>` with its proof for `GET {ORIGIN}{path}`. */
export async function dpopHeaders (key: DpopKey, token: string, path = '/api/hello', options: ProofOptions = {}): Promise<Record<string, string>> {
  return { authorization: `DPoP ${token}`, dpop: await proof(key, { htm: 'GET', htu: `${ORIGIN}${path}`, accessToken: token, ...options }) }
}
