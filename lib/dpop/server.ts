import { createHmac } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { ServerContext } from '../context.js'
import { ImproperlyConfiguredError, InvalidDpopProofError, UnauthorizedClientError } from '../errors.js'
import type { OAuthRequest } from '../request.js'
import type { Settings } from '../settings.js'
import type { Application, Store } from '../store/types.js'
import { decodeSealingKey, type SealingKey, type SealingKeyInput } from '../tokens/client-secret-seal.js'
import { createDpopVerifier, requestUrl, type DpopVerifier } from './proof.js'

// DPoP on the authorization server: the verifier the core builds from its settings, the token
// endpoint's proof step, and the binding rules of RFC 9449 §5 (refresh tokens) and §10 (codes).

/**
 * The nonce key: the `dpopNonceKey` option, else one derived from the client-secret sealing key
 * (a MAC key of its own, so the two uses never share a key). Neither: a configuration error.
 */
function nonceKeyOf (nonceKey: SealingKey | undefined, sealingKey: SealingKeyInput | undefined): Uint8Array {
  if (nonceKey !== undefined) return decodeSealingKey(nonceKey, 'dpopNonceKey')
  const first: unknown = Array.isArray(sealingKey) ? sealingKey[0] : sealingKey
  if (first === undefined) {
    throw new ImproperlyConfiguredError('OAT_ERR_OPTIONS', 'fastify-oauth-toolkit: dpopNonceRequired needs a dpopNonceKey option (32 random bytes, the same on every instance; `fastify-oauth-toolkit generatekey --sealing` prints one)')
  }
  const base = decodeSealingKey(first as SealingKey, 'clientSecretSealingKey')
  return createHmac('sha256', base).update('fastify-oauth-toolkit dpop nonce key').digest()
}

/** The server's DPoP verifier under `settings`, or `null` when DPoP is off. */
export function createServerDpop (settings: Settings, store: Store, clock: Clock, nonceKey?: SealingKey, sealingKey?: SealingKeyInput): DpopVerifier | null {
  if (!settings.dpopEnabled) return null
  return createDpopVerifier({
    algorithms: settings.dpopSigningAlgValues,
    maxAgeSeconds: settings.dpopProofMaxAgeSeconds,
    nonceKey: settings.dpopNonceRequired ? nonceKeyOf(nonceKey, sealingKey) : null,
    clock,
    useOnce: async (key, expiresAt) => await store.useOnce('dpop', key, expiresAt, clock.now()),
  })
}

/** The origin every DPoP `htu` of this server names: the issuer's (required with `dpopEnabled`). */
export function serverOrigin (settings: Settings): string {
  if (settings.issuer === null) throw new ImproperlyConfiguredError('OAT_ERR_SETTINGS', 'fastify-oauth-toolkit: dpopEnabled needs the issuer setting')
  return new URL(settings.issuer).origin
}

/**
 * The token endpoint's proof step (RFC 9449 §5): the proof's key thumbprint, or `''` when the
 * request carries no proof and neither the client (`dpop_bound_access_tokens`, §5.2) nor the
 * server (`dpopRequired`) requires one.
 */
export async function tokenRequestProof (ctx: ServerContext, req: OAuthRequest, application: Application): Promise<string> {
  const verifier = ctx.dpop ?? null
  if (verifier === null) {
    // A client registered to use DPoP only must not silently get bearer tokens once DPoP is off.
    if (application.dpopBoundAccessTokens) throw new UnauthorizedClientError({ description: 'This client must use DPoP, which this server does not accept.', detail: 'dpop_bound_access_tokens client while dpopEnabled is off' })
    // DPoP off: a `DPoP` header is ignored and a bearer token issued (§5: `token_type` tells the client).
    return ''
  }
  const proof = req.headers.dpop
  if (proof === undefined) {
    if (application.dpopBoundAccessTokens) throw new InvalidDpopProofError({ description: 'This client must send a DPoP proof.', detail: 'client registered with dpop_bound_access_tokens sent no proof' })
    // `dpopRequired`: this server issues sender-constrained access tokens only (FAPI 2.0 §5.3.2.1 item 4).
    if (ctx.settings.dpopRequired) throw new InvalidDpopProofError({ description: 'A DPoP proof is required.', detail: 'token request without a proof while dpopRequired' })
    return ''
  }
  const url = requestUrl(serverOrigin(ctx.settings), req.url ?? '')
  if (url === null) throw new InvalidDpopProofError({ detail: 'request target is not a path' })
  return (await verifier.verify({ proof, method: req.method, url })).jkt
}

/** RFC 9449 §5 (and §1's rationale): refresh tokens of public clients are bound to the proof's key; confidential clients' are not (their credentials already bind them). */
export function refreshTokenJkt (application: Application, jkt: string): string {
  return application.clientType === 'public' ? jkt : ''
}

/** The `DPoP-Nonce` header to send with a token endpoint response when nonces are on (§8: a client learns the next one here). */
export function nonceHeader (ctx: ServerContext): Readonly<Record<string, string>> {
  const nonce = ctx.dpop?.nonce() ?? null
  return nonce === null ? {} : { 'dpop-nonce': nonce }
}
