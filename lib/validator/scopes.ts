import { InvalidScopeError } from '../errors.js'
import { defaultScopesOf, type Settings } from '../settings.js'
import type { Application } from '../store/types.js'

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

/**
 * The scopes to grant: the requested ones if every one exists, else the defaults. A client
 * restricted to `allowedScopes` (RFC 7591 `scope` of a registered client) gets `invalid_scope`
 * for any other scope; with no scope requested it gets the defaults it is allowed, or, when
 * none of them is, its registered scopes.
 */
export function resolveRequestedScopes (settings: Settings, requested: string[] | undefined,
  application?: Pick<Application, 'allowedScopes'>): string[] {
  const allowed = application?.allowedScopes ?? null
  if (requested === undefined) {
    const defaults = defaultScopesOf(settings)
    if (allowed === null) return defaults
    const permitted = defaults.filter((s) => allowed.includes(s))
    return permitted.length > 0 ? permitted : allowed.filter((s) => Object.hasOwn(settings.scopes, s))
  }
  const unknown = requested.filter((s) => !Object.hasOwn(settings.scopes, s))
  if (unknown.length > 0) throw new InvalidScopeError({ detail: `unknown scopes: ${unknown.join(' ')}` })
  checkAllowedScopes(requested, application)
  return requested
}

/** `invalid_scope` when a scope is outside the client's registered `allowedScopes` (if any). */
export function checkAllowedScopes (scopes: readonly string[], application?: Pick<Application, 'allowedScopes'>): void {
  const allowed = application?.allowedScopes ?? null
  if (allowed === null) return
  const refused = scopes.filter((s) => !allowed.includes(s))
  if (refused.length > 0) {
    throw new InvalidScopeError({ description: 'The client is not registered for the requested scope.', detail: `scopes outside the registration: ${refused.join(' ')}` })
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
