// Type-level checks of the view classes as users port them from DOT, under this repository's
// strict tsconfig (noImplicitOverride included). Compiled by `tsc --noEmit -p .`; never run.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import {
  ClientProtectedScopedResourceView,
  ProtectedResourceView,
  ReadWriteScopedResourceView,
  ScopedProtectedResourceView,
} from 'fastify-oauth-toolkit'

/** The tutorial's view: `get` is not declared by the base class, so it needs no `override`. */
export class HelloView extends ProtectedResourceView {
  async get () { return 'Hello, OAuth2!' }
}

/** Methods may take Fastify's request and reply. */
export class ItemsView extends ProtectedResourceView {
  async get (request: FastifyRequest) { return request.accessToken?.scopes ?? [] }
  async post (request: FastifyRequest, reply: FastifyReply) {
    reply.code(201)
    return { owner: request.resourceOwner?.username ?? null }
  }

  async put () { return 'put' }
  async patch () { return 'patch' }
  async delete () { return 'delete' }
}

/** Attributes the base classes declare do need `override` under noImplicitOverride. */
export class ReadView extends ScopedProtectedResourceView {
  override requiredScopes = ['read']
  override bearerChallenge = true
  async get () { return 'read' }
}

export class NotesView extends ReadWriteScopedResourceView {
  override requiredScopes = ['notes'] as const
  async get () { return [] }
}

export class IntrospectLikeView extends ClientProtectedScopedResourceView {
  override requiredScopes = ['introspection']
  async post (request: FastifyRequest) { return { client: request.oauthClient?.clientId ?? null } }
}

export class MissingOverride extends ScopedProtectedResourceView {
  // @ts-expect-error -- noImplicitOverride: requiredScopes comes from the base class
  requiredScopes = ['read']
}

export class SpuriousOverride extends ProtectedResourceView {
  // @ts-expect-error -- the base class declares no `get`, so there is nothing to override
  override async get () { return 'x' }
}

export class BadChallenge extends ProtectedResourceView {
  // @ts-expect-error -- bearerChallenge is a boolean (or undefined for the plugin default)
  override bearerChallenge = 'yes'
}

/** A view needs a no-argument constructor: asView creates the one instance itself. */
export class NeedsArgument extends ProtectedResourceView {
  readonly greeting: string
  constructor (greeting: string) {
    super()
    this.greeting = greeting
  }
}

export const plugins: FastifyPluginAsync[] = [
  HelloView.asView('/api/hello'),
  ItemsView.asView('/api/items'),
  ReadView.asView('/api/read'),
  NotesView.asView('/api/notes'),
  IntrospectLikeView.asView('/api/introspect'),
  // @ts-expect-error -- asView needs the path
  HelloView.asView(),
  // @ts-expect-error -- the constructor takes an argument
  NeedsArgument.asView('/api/needs-argument'),
]
