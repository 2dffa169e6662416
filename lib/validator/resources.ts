import { InvalidTargetError } from '../errors.js'
import { normalizeResource, sameResource } from '../resource/identifiers.js'
import type { Settings } from '../settings.js'

/** At most this many `resource` values per request, each at most this long (stored with every token). */
const MAX_RESOURCES = 10
const MAX_RESOURCE_LENGTH = 2048

// RFC 3986 §3.1: scheme ":" …, with nothing a URI cannot hold (spaces, controls, non-ASCII).
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+$/

/** Splits a stored space-separated resource column into identifiers. */
export function resourceList (stored: string): string[] {
  return stored.split(' ').filter((r) => r !== '')
}

/**
 * RFC 8707 §2: each `resource` must be an absolute URI without a fragment, and (the server's
 * policy, `resourceIndicatorPolicy`) a declared protected resource unless any URI is allowed.
 * Returns the identifiers to bind, declared ones in their declared spelling; `invalid_target` otherwise.
 */
export function resolveRequestedResources (settings: Settings, values: readonly string[]): string[] {
  if (values.length > MAX_RESOURCES) throw new InvalidTargetError({ detail: `${values.length} resource values` })
  const resolved: string[] = []
  for (const value of values) {
    const resource = allowedResource(settings, value)
    if (!resolved.some((r) => sameResource(r, resource))) resolved.push(resource)
  }
  return resolved
}

function allowedResource (settings: Settings, value: string): string {
  if (value.length > MAX_RESOURCE_LENGTH || !ABSOLUTE_URI.test(value) || value.includes('#')) {
    throw new InvalidTargetError({ detail: 'resource is not an absolute URI without fragment' })
  }
  try {
    // Must parse: WHATWG parsing also rejects malformed authorities such as `https://a b`.
    if (new URL(value).protocol === '') throw new TypeError('no scheme')
  } catch {
    throw new InvalidTargetError({ detail: 'resource does not parse as a URI' })
  }
  const declared = settings.protectedResources.find((r) => sameResource(r.resource, value))
  if (declared !== undefined) return declared.resource
  if (settings.resourceIndicatorPolicy === 'any') return value
  throw new InvalidTargetError({ detail: `resource ${normalizeResource(value)} is not declared` })
}

/**
 * RFC 8707 §2.2: a token request may only narrow the resources of its grant (or refresh token).
 * No `resource` keeps them all; a grant bound to none may be bound now (any allowed resource).
 */
export function narrowResources (settings: Settings, granted: readonly string[], values: readonly string[]): string[] {
  if (values.length === 0) return [...granted]
  const requested = resolveRequestedResources(settings, values)
  if (granted.length === 0) return requested
  return requested.map((resource) => {
    const match = granted.find((g) => sameResource(g, resource))
    if (match === undefined) throw new InvalidTargetError({ detail: 'resource beyond the original grant' })
    return match
  })
}
