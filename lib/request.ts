/** Single-valued request parameters (query or form body), after duplicates were recorded. */
export type Params = Readonly<Record<string, string>>

/** A framework-neutral view of an HTTP request, built by the views from Fastify's request. */
export interface OAuthRequest {
  readonly method: string
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly query: Params
  /** The form body; `null` when the request had no `application/x-www-form-urlencoded` body. */
  readonly body: Params | null
  /** Names that appeared more than once in the query or the body (RFC 6749 §3.1, §3.2). */
  readonly duplicated: ReadonlySet<string>
  /** True when the body was present but not form-encoded (JSON, multipart, text, …). */
  readonly unsupportedBody: boolean
  /**
   * Every value of each parameter, in order, the query's and the body's apart: for the one
   * parameter that may repeat, RFC 8707 `resource`. Absent when the request was built by hand.
   */
  readonly values?: { readonly query: ParamLists, readonly body: ParamLists | null }
  /** The request target as received (path and query), for a DPoP proof's `htu`; absent when built by hand. */
  readonly url?: string
}

/** All string values of each parameter. */
export type ParamLists = Readonly<Record<string, readonly string[]>>

/** The result of flattening a parsed query or body. */
export interface FlatParams {
  params: Record<string, string>
  duplicated: string[]
  /** Names whose value was not a string (nested objects from a JSON body, for example). */
  malformed: string[]
  /** Every string value of each parameter, in order. */
  lists: Record<string, string[]>
}

/**
 * Flattens a parsed querystring/body into single string values. Arrays mean the parameter was
 * repeated; anything else that is not a string is malformed. The result has no prototype, so
 * `__proto__` or `constructor` keys are plain data.
 */
export function flattenParams (input: unknown): FlatParams {
  const params: Record<string, string> = Object.create(null) as Record<string, string>
  const duplicated: string[] = []
  const malformed: string[] = []
  const lists: Record<string, string[]> = Object.create(null) as Record<string, string[]>
  if (input === null || input === undefined || typeof input !== 'object') return { params, duplicated, malformed, lists }
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    if (typeof value === 'string') {
      params[key] = value
      lists[key] = [value]
    } else if (Array.isArray(value)) {
      duplicated.push(key)
      const first: unknown = value[0]
      if (typeof first === 'string') params[key] = first
      lists[key] = value.filter((v): v is string => typeof v === 'string')
    } else {
      malformed.push(key)
    }
  }
  return { params, duplicated, malformed, lists }
}

/**
 * A parameter's value, with RFC 6749 §3.1's rule that an empty value counts as omitted.
 */
export function param (params: Params, name: string): string | undefined {
  const value = params[name]
  return value === undefined || value === '' ? undefined : value
}

/**
 * Every value of a parameter that may repeat (RFC 8707 `resource`) from the query or the body;
 * for a hand-built request without `values`, its single value.
 */
export function paramValues (req: OAuthRequest, from: 'query' | 'body', name: string): readonly string[] {
  const lists = req.values?.[from]
  if (lists !== undefined && lists !== null) return lists[name] ?? []
  const value = from === 'query' ? req.query[name] : req.body?.[name]
  return value === undefined ? [] : [value]
}
