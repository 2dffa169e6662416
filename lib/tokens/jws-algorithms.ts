// JWS algorithms (RFC 7518 §3, RFC 8037) this server verifies on what clients sign: client
// assertions (RFC 7523), DPoP proofs (RFC 9449), and the signed request objects built on the
// same keys.

/**
 * The asymmetric algorithms a client may sign with its own keys (`private_key_jwt`, DPoP
 * proofs): `Ed25519` is the fully specified name of EdDSA over Ed25519 (RFC 9864). `none` and
 * the HMAC family are never among them.
 */
export const ASYMMETRIC_JWS_ALGORITHMS = Object.freeze(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const)

/** An asymmetric JWS algorithm. */
export type AsymmetricJwsAlgorithm = typeof ASYMMETRIC_JWS_ALGORITHMS[number]

/** The HMAC algorithms of `client_secret_jwt`, keyed with the client secret (OIDC Core §9). */
export const HMAC_JWS_ALGORITHMS = Object.freeze(['HS256', 'HS384', 'HS512'] as const)

/** An HMAC JWS algorithm. */
export type HmacJwsAlgorithm = typeof HMAC_JWS_ALGORITHMS[number]

/** True when `alg` is one of the HMAC algorithms. */
export function isHmacAlgorithm (alg: string): alg is HmacJwsAlgorithm {
  return (HMAC_JWS_ALGORITHMS as readonly string[]).includes(alg)
}

/** True when `alg` is one of the asymmetric algorithms. */
export function isAsymmetricAlgorithm (alg: string): alg is AsymmetricJwsAlgorithm {
  return (ASYMMETRIC_JWS_ALGORITHMS as readonly string[]).includes(alg)
}
