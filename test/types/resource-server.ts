// Type-level checks of the standalone resource server as a host API sees it, through the
// package entry. Compiled by `tsc --noEmit -p .`; never run.
import Fastify from 'fastify'
import { ScopedProtectedResourceView, type AccessTokenInfo, type OAuthResourceGuard, type ResourceOwner } from 'fastify-oauth-toolkit'
import { resourceServer } from 'fastify-oauth-toolkit/resource-server'
import { expectTrue } from './resource-owner.js'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false

export async function standaloneApi (): Promise<void> {
  const api = Fastify()
  await api.register(resourceServer, {
    introspection: { url: 'https://auth.example.com/o/introspect/', credentials: { clientId: 'api', clientSecret: 'secret' } },
    jwt: { issuer: 'https://auth.example.com/o', audience: 'https://api.example.com', jwksUri: 'https://auth.example.com/o/.well-known/jwks.json', checkRevocation: true },
    // The loader also gets the verified token (e.g. the introspected username).
    loadUser: async (userId, token: AccessTokenInfo) => ({ id: userId, username: String(token.claims?.username ?? '') }),
    onUnavailable: 'deny',
  })
  expectTrue<Equal<typeof api.oauthResource, OAuthResourceGuard>>()
  api.get('/items', { onRequest: api.oauthResource.protect({ scopes: ['read'] }) }, async (request) => {
    const token = request.accessToken
    if (token === null) return null
    // No local row on a standalone resource server.
    const id: number | null = token.id
    // @ts-expect-error -- the id may be null here
    const row: number = token.id
    const via: 'store' | 'introspection' | 'jwt' | undefined = token.verifiedBy
    const owner: ResourceOwner | null = request.resourceOwner
    return { id, row, via, owner, client: token.clientId ?? token.application?.clientId }
  })
  class Items extends ScopedProtectedResourceView {
    override requiredScopes = ['read']
    async get () { return [] }
  }
  await api.register(Items.asView('/api/items'))

  // @ts-expect-error -- only the resource-server subset of the settings
  await api.register(resourceServer, { jwt: { issuer: 'i', audience: 'a', jwksUri: 'https://x/jwks' }, settings: { accessTokenExpireSeconds: 60 } })
  // @ts-expect-error -- onUnavailable is 'unavailable' or 'deny'
  await api.register(resourceServer, { jwt: { issuer: 'i', audience: 'a', jwksUri: 'https://x/jwks' }, onUnavailable: 'allow' })
}
