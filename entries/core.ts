// `fastify-oauth-toolkit/core`: the framework-free authorization server under the plugin
// (`createOAuthServer`, for scripts, workers and benchmarks), what it is built from (settings,
// keys, secret hashing, clock and randomness) and the protocol's wire types and constants.

export { createOAuthServer, type OAuthServer, type OAuthServerOptions } from '../lib/server.js'
export { resolveSettings } from '../lib/settings.js'
export type { OidcContext } from '../lib/context.js'
export type { Clock } from '../lib/clock.js'
export type { Random } from '../lib/random.js'
export { createScryptHasher, type SecretHasher, type ScryptParams } from '../lib/tokens/secret-hasher.js'
export {
  loadSigningKeys, SIGNING_KEY_ALGORITHMS, type OidcKeyOptions, type KeyMaterial, type SigningKeyOption, type SigningKeyAlgorithm,
  type SigningKeys, type ActiveSigningKey, type PublicJwk,
} from '../lib/tokens/signing-keys.js'
export { RESERVED_ID_TOKEN_CLAIMS } from '../lib/tokens/id-token.js'
export type { SealingKey, SealingKeyInput } from '../lib/tokens/client-secret-seal.js'
export type { SafeFetchOptions as OutboundHttpOptions } from '../lib/http/safe-fetch.js'
export { CLIENT_ASSERTION_TYPE } from '../lib/validator/client-assertion.js'
export { validateClientMetadata, type ClientMetadata, type TokenEndpointAuthMethod } from '../lib/registration/metadata.js'
export type { OAuthRequest, Params } from '../lib/request.js'
export type { OAuthResponse } from '../lib/response.js'
export type { AuthorizationServerMetadata, OpenIdProviderMetadata } from '../lib/endpoints/metadata.js'
export type { DeviceAuthorizationResponseBody } from '../lib/endpoints/device-authorization.js'
export { DEVICE_CODE_GRANT_TYPE } from '../lib/grants/device-code.js'
export { REQUEST_URI_PREFIX } from '../lib/endpoints/pushed-request.js'
export { CLAIMS_BY_SCOPE } from '../lib/endpoints/userinfo.js'
export { MAX_REDIRECT_TARGET_LENGTH } from '../lib/redirect-target.js'
