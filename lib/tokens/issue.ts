import { addSeconds } from '../clock.js'
import type { ServerContext } from '../context.js'
import type { AccessTokenRecord, Application, IssuedTokenRows, TokenIssue } from '../store/types.js'
import { tokenChecksum } from './checksum.js'
import { signJwtAccessToken } from './jwt-access-token.js'

/** The token values handed to the client, kept only in memory. */
export interface TokenPair {
  readonly accessToken: string
  readonly refreshToken: string | null
}

/** A token issuance ready to be written, and the clear values to return once it is. */
export interface PreparedIssue {
  readonly issue: TokenIssue
  readonly tokens: TokenPair
}

/** What a grant decided to issue. */
export interface IssueRequest {
  readonly application: Application
  readonly userId: string | null
  /** Scopes of the access token. */
  readonly scopes: readonly string[]
  /** Scopes the refresh token keeps (the original grant); defaults to `scopes`. */
  readonly refreshScopes?: readonly string[]
  readonly withRefreshToken: boolean
  /** Continue an existing token family (refresh); a new one is drawn otherwise. */
  readonly tokenFamily?: string
  readonly grantId?: number | null
  /** RFC 8707 resources of the access token, space-separated (`''`: unrestricted). */
  readonly resource?: string
  /** Resources the refresh token keeps (the original grant's); defaults to `resource`. */
  readonly refreshResource?: string
  /** When the user authenticated, where known: `auth_time` of JWT access tokens, and kept with the refresh token for refreshed ID tokens. */
  readonly authTime?: Date | null
  /** RFC 9449: the DPoP key thumbprint the access token is bound to (`''` or absent: a bearer token). */
  readonly jkt?: string
  /** The key the refresh token is bound to (§5: public clients only); `''` or absent: unbound. */
  readonly refreshJkt?: string
  /** The user's session the refresh token family belongs to (Back-Channel Logout §2.7); `null` or absent: none. */
  readonly sessionId?: number | null
}

/**
 * Draws fresh tokens (256 bits each, beyond guessing), or signs an RFC 9068 JWT access token when
 * `accessTokenFormat` is `jwt`, and the rows that record their checksums.
 */
export async function prepareIssue (ctx: ServerContext, req: IssueRequest): Promise<PreparedIssue> {
  const now = ctx.clock.now()
  const expiresAt = addSeconds(now, ctx.settings.accessTokenExpireSeconds)
  const accessToken = ctx.settings.accessTokenFormat === 'jwt'
    ? await signJwtAccessToken(ctx, {
      application: req.application,
      userId: req.userId,
      scopes: req.scopes,
      resource: (req.resource ?? '').split(' ').filter((r) => r !== ''),
      issuedAt: now,
      expiresAt,
      authTime: req.authTime ?? null,
      jkt: req.jkt ?? '',
    })
    : ctx.random.token(32)
  const refreshToken = req.withRefreshToken ? ctx.random.token(32) : null
  const family = refreshToken === null ? (req.tokenFamily ?? null) : (req.tokenFamily ?? ctx.random.uuid())
  const resource = req.resource ?? ''
  return {
    tokens: { accessToken, refreshToken },
    issue: {
      now,
      accessToken: {
        checksum: tokenChecksum(accessToken),
        applicationId: req.application.id,
        userId: req.userId,
        scope: req.scopes.join(' '),
        expiresAt,
        tokenFamily: family,
        grantId: req.grantId ?? null,
        resource,
        jkt: req.jkt ?? '',
      },
      refreshToken: refreshToken === null || family === null
        ? null
        : {
            checksum: tokenChecksum(refreshToken),
            applicationId: req.application.id,
            userId: req.userId,
            scope: (req.refreshScopes ?? req.scopes).join(' '),
            tokenFamily: family,
            resource: req.refreshResource ?? resource,
            authTime: req.authTime ?? null,
            jkt: req.refreshJkt ?? '',
            sessionId: req.sessionId ?? null,
          },
    },
  }
}

/** The RFC 6749 §5.1 success body. */
export interface TokenResponseBody {
  access_token: string
  /** `DPoP` for a token bound to a DPoP key (RFC 9449 §5), else `Bearer`. */
  token_type: 'Bearer' | 'DPoP'
  expires_in: number
  scope: string
  refresh_token?: string
  /** OpenID Connect Core §3.1.3.3. */
  id_token?: string
}

/**
 * The `expires_in` of an access token (RFC 6749 §4.2.2, §5.1), in whole seconds: for a token just
 * issued, the lifetime it was issued with (its expiry less its creation), not what is left of it
 * once the response is written, so that a commit that waited for the write lock does not shave a
 * second off; for a token issued earlier and answered again (`answeredAt`: a refresh retried inside
 * the grace period), what is left of it then.
 */
export function issuedLifetime (record: Pick<AccessTokenRecord, 'expiresAt' | 'createdAt'>, answeredAt: Date = record.createdAt): number {
  return Math.max(0, Math.round((record.expiresAt.getTime() - answeredAt.getTime()) / 1000))
}

/**
 * Builds the §5.1 body from the clear tokens and the rows just written (or, with `answeredAt`,
 * rows written earlier and answered again).
 */
export function tokenResponseBody (tokens: TokenPair, rows: IssuedTokenRows, idToken?: string, answeredAt?: Date): TokenResponseBody {
  const body: TokenResponseBody = {
    access_token: tokens.accessToken,
    token_type: rows.accessToken.jkt === '' ? 'Bearer' : 'DPoP',
    expires_in: issuedLifetime(rows.accessToken, answeredAt),
    scope: rows.accessToken.scope,
  }
  if (tokens.refreshToken !== null) body.refresh_token = tokens.refreshToken
  if (idToken !== undefined) body.id_token = idToken
  return body
}
