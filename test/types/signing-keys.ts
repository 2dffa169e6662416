// Type-level checks of the `oidc` option (compiled by `tsc --noEmit`, never run), through the
// package entries as a user writes them: configurations of earlier versions still compile, the
// new keys and the ID-token claims hook are typed, and an unknown algorithm does not compile.
import type { OidcOptions } from '../../index.js'
import { RESERVED_ID_TOKEN_CLAIMS, SIGNING_KEY_ALGORITHMS, type SigningKeyAlgorithm } from '../../entries/core.js'

declare const pem: string

/** A configuration of earlier versions: one RSA key and retired ones. */
export const before: OidcOptions = { privateKey: pem, inactiveKeys: [pem], getUserClaims: async () => ({}) }

/** Several algorithms, retired keys of each form, and claims for ID tokens. */
export const now: OidcOptions = {
  privateKey: pem,
  signingKeys: [{ alg: 'ES256', privateKey: pem }, { alg: 'EdDSA', privateKey: { kty: 'OKP', crv: 'Ed25519', x: '', d: '' } }],
  inactiveKeys: [pem, { alg: 'PS256', privateKey: pem }],
  getIdTokenClaims: async (userId, scopes, { clientId }) => ({ roles: [userId, clientId, ...scopes] }),
}

/** No RSA key at all is a valid configuration. */
export const withoutRsa: OidcOptions = { signingKeys: [{ alg: 'ES256', privateKey: pem }] }

// @ts-expect-error -- ES384 is not an algorithm the toolkit signs with
export const unknownAlg: OidcOptions = { signingKeys: [{ alg: 'ES384', privateKey: pem }] }

// @ts-expect-error -- the hook returns claims, not a string
export const badHook: OidcOptions = { privateKey: pem, getIdTokenClaims: () => 'admin' }

export const algorithms: readonly SigningKeyAlgorithm[] = SIGNING_KEY_ALGORITHMS
export const reserved: readonly string[] = RESERVED_ID_TOKEN_CLAIMS
