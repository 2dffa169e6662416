import type { FastifyReply, FastifyRequest } from 'fastify'
import { flattenParams, type OAuthRequest } from '../lib/request.js'
import type { OAuthResponse } from '../lib/response.js'

/** Turns Fastify's request into the core's framework-neutral `OAuthRequest`. */
export function toOAuthRequest (request: FastifyRequest): OAuthRequest {
  const headers: Record<string, string | undefined> = {}
  for (const [name, value] of Object.entries(request.headers)) {
    // A repeated `DPoP` header stays visibly repeated (joined, as Node joins it), so that the
    // proof check refuses it (RFC 9449 §4.3 step 1) instead of taking the first proof.
    headers[name] = Array.isArray(value) ? (name === 'dpop' ? value.join(', ') : value[0]) : value
  }
  const query = flattenParams(request.query)
  const contentType = (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  const isForm = contentType === 'application/x-www-form-urlencoded'
  const body = isForm ? flattenParams(request.body) : null
  const hasOtherBody = !isForm && request.body !== undefined && request.body !== null && contentType !== ''
  return {
    method: request.method,
    headers,
    query: query.params,
    body: body === null ? null : body.params,
    duplicated: new Set([...query.duplicated, ...(body?.duplicated ?? []), ...inBoth(query.params, body?.params)]),
    unsupportedBody: hasOtherBody || (body !== null && body.malformed.length > 0),
    values: { query: query.lists, body: body === null ? null : body.lists },
    url: request.url,
  }
}

/** RFC 6749 §3.2: a parameter sent in the query *and* the body is included more than once, and refused like any duplicate. */
function inBoth (query: Record<string, string>, body: Record<string, string> | undefined): string[] {
  return body === undefined ? [] : Object.keys(query).filter((name) => Object.hasOwn(body, name))
}

/** Copies a core response onto the reply. */
export function sendOAuthResponse (reply: FastifyReply, response: OAuthResponse): FastifyReply {
  reply.code(response.status).headers(response.headers)
  return response.body === null ? reply.send() : reply.send(response.body)
}
