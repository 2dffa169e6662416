// A client's signing key as the JWT client authentication and request object tests make them:
// a fresh key pair of `alg` and its public JWK as a client registers it.
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose'

/** A client's private key and the public JWK it registers (`kid`, `alg`, `use: sig`). */
export interface ClientKey {
  readonly privateKey: CryptoKey
  readonly jwk: JWK
}

/** A new key pair of `alg` whose public JWK carries `kid`. */
export async function clientKey (alg: string, kid: string): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  return { privateKey, jwk: { ...await exportJWK(publicKey), kid, alg, use: 'sig' } }
}
