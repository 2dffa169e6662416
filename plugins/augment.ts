import type { AccessTokenInfo, ResourceOwner } from '../lib/resource/bearer.js'
import type { Application } from '../lib/store/types.js'
import type { OAuthResourceGuard } from '../views/resource-guard.js'
import type { OAuthToolkit } from './toolkit.js'

// The toolkit's declaration merging into Fastify's types, in one file (imported by the plugins).

declare module 'fastify' {
  interface FastifyInstance {
    /** The toolkit: endpoints, `protect()`, settings, store and events. */
    oauth: OAuthToolkit
    /** Bearer-token protection (views, `protect()`): `app.oauth` itself, or a standalone `resourceServer`. */
    oauthResource: OAuthResourceGuard
  }
  interface FastifyRequest {
    /** The verified access token of this request, or `null`. */
    accessToken: AccessTokenInfo | null
    /** The user the access token speaks for (through `loadUser`), or `null`. */
    resourceOwner: ResourceOwner | null
    /** The client that authenticated with its own credentials on a client-protected view, or `null`. */
    oauthClient: Application | null
  }
}
