import { InvalidScopeError } from '../errors.js'
import { defaultScopesOf, type Settings } from '../settings.js'

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

/** The scopes to grant: the requested ones if every one exists, else the defaults. */
export function resolveRequestedScopes (settings: Settings, requested: string[] | undefined): string[] {
  if (requested === undefined) return defaultScopesOf(settings)
  const unknown = requested.filter((s) => !Object.hasOwn(settings.scopes, s))
  if (unknown.length > 0) throw new InvalidScopeError({ detail: `unknown scopes: ${unknown.join(' ')}` })
  return requested
}

/** Splits a stored space-separated scope string. */
export function scopeList (scope: string): string[] {
  return scope.split(' ').filter((s) => s.length > 0)
}

/** True when every scope in `needed` is in `granted`. */
export function hasScopes (granted: readonly string[], needed: readonly string[]): boolean {
  return needed.every((s) => granted.includes(s))
}
