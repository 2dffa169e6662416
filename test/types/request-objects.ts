// Type-level checks of request objects' (RFC 9101) public surface as a host app sees it.
// Compiled by `tsc --noEmit -p .`; never run (tap runs test/**/*.test.ts only).
import Fastify from 'fastify'
import { errors, fastifyOAuthToolkit } from 'fastify-oauth-toolkit'
import type { Store } from 'fastify-oauth-toolkit/store'

export async function hostApp (store: Store): Promise<unknown[]> {
  const app = Fastify()
  await app.register(fastifyOAuthToolkit, {
    store,
    settings: { issuer: 'https://auth.example.com/o', requireSignedRequestObject: true, requestObjectMaxLifetimeSeconds: 120, allowUnsignedRequestObjects: false },
  })
  // @ts-expect-error the lifetime is a number of seconds
  await app.register(fastifyOAuthToolkit, { store, settings: { requestObjectMaxLifetimeSeconds: '120' } })
  const created = await app.oauth.createApplication({
    clientType: 'confidential',
    authorizationGrantType: 'authorization-code',
    redirectUris: ['https://client.example/cb'],
    jwksUri: 'https://client.example/jwks.json',
    requireSignedRequestObject: true,
    requestObjectSigningAlg: 'PS256',
  })
  const required: boolean = created.application.requireSignedRequestObject
  const alg: string = created.application.requestObjectSigningAlg
  const error = new errors.InvalidRequestObjectError({ detail: 'bad signature' })
  const code: errors.OAuthErrorCode = error.error
  // @ts-expect-error the requirement is a boolean
  await app.oauth.createApplication({ clientType: 'public', authorizationGrantType: 'authorization-code', requireSignedRequestObject: 'yes' })
  return [required, alg, code]
}
