import { InvalidScopeError } from '../errors.js'
import { defaultScopesOf, type Settings } from '../settings.js'
import type { Application } from '../store/types.js'

/**
 * The scope a bearer token needs to call the introspection endpoint (DOT's name). It grants the
 * right to learn about every client's tokens, so only applications with `allowIntrospection`
 * obtain it, whatever they ask for and whatever the default scopes say.
 */
export const INTROSPECTION_SCOPE = 'introspection'

/** The parts of an application that decide which scopes it may obtain. */
export type ScopePolicy = Pick<Application, 'allowedScopes' | 'allowIntrospection' | 'clientType'>

/**
 * True for a resource server: an application with `allowIntrospection` that can authenticate
 * (RFC 7662 §2.1). The permission on a public client, which only a direct store write could
 * set, counts for nothing.
 */
export function mayIntrospect (application: Pick<Application, 'allowIntrospection' | 'clientType'>): boolean {
  return application.allowIntrospection && application.clientType === 'confidential'
}

// RFC 6749 §3.3: scope = scope-token *( SP scope-token )
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

/** Splits a `scope` parameter; `undefined` when the request named no scope (RFC 6749 §3.3). */
export function parseScopeParam (value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined
  const scopes = value.split(' ').filter((s) => s.length > 0)
  if (scopes.length === 0) return undefined
  if (!scopes.every((s) => SCOPE_TOKEN.test(s))) throw new InvalidScopeError({ description: 'The scope parameter is malformed.' })
  return [...new Set(scopes)]
}

/** True when `application` may hold `scope`: within its `allowedScopes`, and `introspection` only with the permission. */
function mayHold (scope: string, application: ScopePolicy | undefined): boolean {
  if (scope === INTROSPECTION_SCOPE && (application === undefined || !mayIntrospect(application))) return false
  const allowed = application?.allowedScopes ?? null
  return allowed === null || allowed.includes(scope)
}

/**
 * The scopes to grant: the requested ones if every one exists, else the defaults. A client
 * restricted to `allowedScopes` (RFC 7591 `scope` of a registered client) gets `invalid_scope`
 * for any other scope; with no scope requested it gets the defaults it is allowed, or, when
 * none of them is, its registered scopes. The `introspection` scope is never granted to an
 * application without `allowIntrospection`: asked for, it is `invalid_scope`; among the
 * defaults (`__all__` included), it is left out.
 */
export function resolveRequestedScopes (settings: Settings, requested: string[] | undefined, application?: ScopePolicy): string[] {
  if (requested === undefined) {
    const defaults = defaultScopesOf(settings)
    const permitted = defaults.filter((s) => mayHold(s, application))
    const allowed = application?.allowedScopes ?? null
    if (allowed === null || permitted.length > 0) return permitted
    return allowed.filter((s) => Object.hasOwn(settings.scopes, s) && mayHold(s, application))
  }
  const unknown = requested.filter((s) => !Object.hasOwn(settings.scopes, s))
  if (unknown.length > 0) throw new InvalidScopeError({ detail: `unknown scopes: ${unknown.join(' ')}` })
  checkAllowedScopes(requested, application)
  return requested
}

/**
 * `invalid_scope` when a scope is outside the client's registered `allowedScopes` (if any), or
 * is the `introspection` scope and the client lacks `allowIntrospection`.
 */
export function checkAllowedScopes (scopes: readonly string[], application?: ScopePolicy): void {
  const refused = scopes.filter((s) => !mayHold(s, application))
  if (refused.length > 0) {
    throw new InvalidScopeError({ description: 'The client is not registered for the requested scope.', detail: `scopes the client may not hold: ${refused.join(' ')}` })
  }
}

/** Splits a stored space-separated scope string. */
export function scopeList (scope: string): string[] {
  return scope.split(' ').filter((s) => s.length > 0)
}

/** True when every scope in `needed` is in `granted`. */
export function hasScopes (granted: readonly string[], needed: readonly string[]): boolean {
  return needed.every((s) => granted.includes(s))
}
