// Type-level checks of JWT client authentication's public surface as a host app sees it.
// Compiled by `tsc --noEmit -p .`; never run (tap runs test/**/*.test.ts only).
import Fastify, { type FastifyInstance } from 'fastify'
import { fastifyOAuthToolkit } from 'fastify-oauth-toolkit'
import { CLIENT_ASSERTION_TYPE, createOAuthServer, type OAuthRequest, type OutboundHttpOptions, type TokenEndpointAuthMethod } from 'fastify-oauth-toolkit/core'
import type { Store } from 'fastify-oauth-toolkit/store'

export async function hostApp (store: Store, caPem: string): Promise<unknown[]> {
  const app = Fastify()
  const outboundHttp: OutboundHttpOptions = { ca: caPem, allowPrivateAddresses: true, maxBytes: 32 * 1024, timeoutMs: 2000 }
  await app.register(fastifyOAuthToolkit, {
    store,
    settings: { issuer: 'https://auth.example.com/o', clientAssertionSigningAlgorithms: ['ES256'], clientAssertionLegacyAudience: false },
    outboundHttp,
  })
  // @ts-expect-error allowHttp is a boolean
  await app.register(fastifyOAuthToolkit, { store, outboundHttp: { allowHttp: 'yes' } })
  const created = await app.oauth.createApplication({
    clientType: 'confidential',
    authorizationGrantType: 'client-credentials',
    tokenEndpointAuthMethod: 'private_key_jwt',
    jwksUri: 'https://client.example/jwks.json',
    tokenEndpointAuthSigningAlg: 'ES256',
  })
  const method: TokenEndpointAuthMethod | '' = created.application.tokenEndpointAuthMethod
  const jwt: readonly TokenEndpointAuthMethod[] = ['private_key_jwt', 'client_secret_jwt']
  // @ts-expect-error not a method this server knows
  const unknown: TokenEndpointAuthMethod = 'tls_client_auth'
  const type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' = CLIENT_ASSERTION_TYPE
  createOAuthServer({ store, outboundHttp })
  return [method, jwt, unknown, type]
}

/** The facade authenticates a client under the failure limits: it takes the Fastify request, whose address keys them. */
export function hostRoute (app: FastifyInstance, handBuilt: OAuthRequest): void {
  app.post('/api/clients/me', async (request) => {
    const { application, method } = await app.oauth.authenticateClient(request, { issuer: 'https://auth.example.com/o' })
    // @ts-expect-error a hand-built request has no address to count failures by
    await app.oauth.authenticateClient(handBuilt)
    return { clientId: application.clientId, method }
  })
}
