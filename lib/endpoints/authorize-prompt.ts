import type { ServerContext } from '../context.js'
import { ConsentRequiredError, LoginRequiredError, type OAuthError } from '../errors.js'
import type { AuthorizationRequest, AuthorizingUser } from './authorize-request.js'
import { earlyErrorResponse, type AuthorizationResponse } from './authorize-response.js'
import { canSkipConsent } from './authorize.js'

/** What the authorization endpoint does with a valid request, once it knows who is logged in. */
export type AuthorizationDecision =
  /**
   * Send the browser to the login page and back. `loginAfter` (for `prompt=login`) is the time
   * the new login must be at or after; the view drops `login` from `prompt` in `next` (DOT
   * parity) and adds `login_after`, so the return trip neither loops nor skips the login.
   */
  | { readonly kind: 'login', readonly loginAfter: Date | null }
  /**
   * `login_required` or `consent_required`: for the client at its validated redirect URI, or,
   * when `response` is `null` (a self-registered client, see `earlyErrorResponse`), for the error page.
   */
  | { readonly kind: 'error', readonly error: OAuthError, readonly response: AuthorizationResponse | null }
  | { readonly kind: 'consent', readonly user: AuthorizingUser }
  /** Approve without asking; `via` says why (pass it to `approveAuthorization` for `authorizationApproved`). */
  | { readonly kind: 'approve', readonly user: AuthorizingUser, readonly via: 'skip-authorization' | 'previous-consent' }

/**
 * OIDC Core §3.1.2.1–3.1.2.6 (`prompt`, `max_age`) on top of RFC 6749's consent. Runs after the
 * client and redirect URI were validated, so an error redirect never leaves the registered
 * URIs (DOT #1719), and a self-registered client gets none at all: nobody approved anything yet. Freshness checks need the host's `authTime`; without one they
 * cannot be enforced (DOT parity: DOT only redirects to the login page).
 */
export async function decideAuthorization (ctx: ServerContext, request: AuthorizationRequest, user: AuthorizingUser | null): Promise<AuthorizationDecision> {
  const none = request.prompt.includes('none')
  const fail = (error: OAuthError): AuthorizationDecision => ({ kind: 'error', error, response: earlyErrorResponse(request, error) })
  const loginRequired = (detail: string): AuthorizationDecision => fail(new LoginRequiredError({ detail }))
  if (user === null) {
    if (none) return loginRequired('prompt=none without a logged-in user')
    return { kind: 'login', loginAfter: request.prompt.includes('login') ? ctx.clock.now() : null }
  }
  if (request.prompt.includes('login')) return { kind: 'login', loginAfter: ctx.clock.now() }

  const authTime = user.authTime
  // Back from a prompt=login round trip: the login must really have happened since.
  if (request.loginAfter !== null && authTime !== undefined && authTime.getTime() < request.loginAfter.getTime()) {
    return loginRequired('prompt=login, but the user did not log in again')
  }
  if (request.maxAge !== null && authTime !== undefined && ctx.clock.now().getTime() - authTime.getTime() > request.maxAge * 1000) {
    return none ? loginRequired('max_age exceeded') : { kind: 'login', loginAfter: null }
  }
  if (request.prompt.includes('consent')) return { kind: 'consent', user }
  const skip = await canSkipConsent(ctx, request, user.id)
  if (skip !== null) return { kind: 'approve', user, via: skip }
  return none
    ? fail(new ConsentRequiredError({ detail: 'prompt=none, but consent is needed' }))
    : { kind: 'consent', user }
}
