// `fastify-oauth-toolkit/resource-server`: APIs that hold no OAuth tables and check tokens
// against an authorization server elsewhere, by RFC 7662 introspection or as RFC 9068 JWT access
// tokens (docs/resource-server.md), and the RFC 8707 / RFC 9728 resource-identifier helpers.
// The view classes they protect routes with come from the root entry.

export { resourceServer, type ResourceServerDpopOptions, type ResourceServerOptions, type ResourceServerSettings } from '../plugins/resource-server.js'
export type { ResourceLoadUser } from '../views/resource-guard.js'
export { createIntrospectionVerifier, MAX_NEGATIVE_CACHE_SECONDS, type IntrospectionOptions, type RemoteVerifierDeps } from '../lib/resource/introspection.js'
export { createJwtVerifier, type JwtVerificationOptions } from '../lib/resource/jwt-verifier.js'
export { RETRY_AFTER_SECONDS, type TokenVerifier, type RemoteVerificationProblem, type ReportProblem } from '../lib/resource/verifier.js'
export type { BearerResult, BearerSource } from '../lib/resource/bearer.js'
export { AT_JWT_TYPE } from '../lib/tokens/jwt-access-token.js'
export { checkAudience } from '../lib/resource/audience.js'
export {
  normalizeResource,
  sameResource,
  protectedResourceMetadataUrl,
  type BearerMethod,
} from '../lib/resource/identifiers.js'
export type { ProtectedResourceMetadata } from '../lib/endpoints/resource-metadata.js'
