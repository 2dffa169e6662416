// Type-level checks of the resource-server API as a host app sees it, through the package
// entry. Compiled by `tsc --noEmit -p .`; never run (tap runs test/**/*.test.ts only).
import Fastify, { type FastifyRequest } from 'fastify'
import {
  fastifyOAuthToolkit,
  type AccessTokenInfo,
  type Application,
  type LoadUser,
  type ProtectOptions,
  type ResourceOwner,
} from 'fastify-oauth-toolkit'

// The augmentation the README shows (DOT tutorial part 3). One program shares one
// ResourceOwner, and example-app augments it with the same fields, so the two must agree.
declare module 'fastify-oauth-toolkit' {
  interface ResourceOwner {
    id: string
    username: string
  }
}

/** True when A and B are the same type (not merely assignable). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
export function expectTrue<T extends true> (_proof?: T): void {}

export async function hostApp (): Promise<void> {
  const app = Fastify()
  await app.register(fastifyOAuthToolkit, {
    database: ':memory:',
    migrate: true,
    loadUser: async (userId) => ({ id: userId, username: 'alice' }),
  })

  app.get('/me', { onRequest: app.oauth.protect({ scopes: ['read'] }) }, async (request) => {
    expectTrue<Equal<typeof request.resourceOwner, ResourceOwner | null>>()
    expectTrue<Equal<typeof request.accessToken, AccessTokenInfo | null>>()
    expectTrue<Equal<typeof request.oauthClient, Application | null>>()
    // The augmented fields are typed, without casts.
    const username: string | undefined = request.resourceOwner?.username
    // @ts-expect-error -- a field the host did not declare
    const email: unknown = request.resourceOwner?.email
    // @ts-expect-error -- accessToken may be null (routes without protect())
    const unchecked: unknown = request.accessToken.scopes
    const token = request.accessToken
    if (token !== null) {
      const scopes: readonly string[] = token.scopes
      const expiresAt: Date = token.expiresAt
      const userId: string | null = token.userId
      const clientId: string | undefined = token.application?.clientId
      // @ts-expect-error -- the verified token is read-only
      token.scopes = []
      return { username, scopes, expiresAt, userId, clientId, email, unchecked }
    }
    return { username, email, unchecked }
  })
}

export function loadUserMustResolveTheOwner (): LoadUser[] {
  const good: LoadUser = async (id) => ({ id, username: 'bob' })
  const none: LoadUser = async () => null
  // @ts-expect-error -- the user lacks `username`
  const missing: LoadUser = async (id) => ({ id })
  // @ts-expect-error -- ids are strings
  const wrongId: LoadUser = async (id: number) => ({ id: String(id), username: 'x' })
  return [good, none, missing, wrongId]
}

export function protectOptionsAreChecked (request: FastifyRequest): ProtectOptions[] {
  const app = request.server
  app.oauth.protect()
  app.oauth.protect({ scopes: ['read', 'write'], readWrite: true, bearerChallenge: true })
  // @ts-expect-error -- scopes is a list, not a space-separated string
  app.oauth.protect({ scopes: 'read' })
  // @ts-expect-error -- unknown option (DOT's `scopes`, not `scope`)
  app.oauth.protect({ scope: ['read'] })
  // @ts-expect-error -- readWrite is a boolean
  app.oauth.protect({ readWrite: 'yes' })
  return [{ scopes: ['read'] }]
}

export async function pluginOptionsAreChecked (): Promise<void> {
  const app = Fastify()
  // @ts-expect-error -- database is a path, a URL or an open better-sqlite3 database
  await app.register(fastifyOAuthToolkit, { database: 42 })
  // @ts-expect-error -- misspelt setting
  await app.register(fastifyOAuthToolkit, { database: ':memory:', settings: { acessTokenExpireSeconds: 60 } })
  // @ts-expect-error -- settings keep their types
  await app.register(fastifyOAuthToolkit, { database: ':memory:', settings: { bearerChallenge: 'yes' } })
}
