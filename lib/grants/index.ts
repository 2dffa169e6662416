import { authorizationCodeGrant } from './authorization-code.js'
import { clientCredentialsGrant } from './client-credentials.js'
import { deviceCodeGrant } from './device-code.js'
import { passwordGrant } from './password.js'
import { refreshTokenGrant } from './refresh-token.js'
import type { TokenGrant } from './types.js'

/** The token endpoint's grants by wire `grant_type`. Nothing else switches on grant strings. */
export const TOKEN_GRANTS: ReadonlyMap<string, TokenGrant> = new Map(
  [authorizationCodeGrant, clientCredentialsGrant, passwordGrant, refreshTokenGrant, deviceCodeGrant].map((g) => [g.grantType, g])
)
