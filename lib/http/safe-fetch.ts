import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import { isPublicAddress } from './address-policy.js'

// One outbound HTTP client for every URL a client registers (`jwks_uri`, back-channel logout
// URIs, and client metadata documents later). Such a URL is attacker-chosen, so the request is
// held to: https only, a public address only (checked on the address actually connected to,
// after this server's own DNS resolution, so a name that resolves to a public address for the
// check and a private one for the connection, DNS rebinding, gets nowhere), no redirects (a
// public URL could send the server on to a private one), a size limit and a time limit that
// covers the whole exchange (a server dripping bytes cannot hold a request open).

/** Options of `createSafeFetch`; the defaults are the production ones. */
export interface SafeFetchOptions {
  /** Accept `http:` URLs. Tests and local development only (default false). */
  readonly allowHttp?: boolean
  /**
   * Connect to loopback, private, link-local and other non-public addresses. Tests and local
   * development only (default false).
   */
  readonly allowPrivateAddresses?: boolean
  /** Certificate authorities to trust instead of Node's bundled ones (PEM), e.g. a test server's self-signed certificate. */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>
  /** Largest response body accepted, in bytes (default 64 KiB). */
  readonly maxBytes?: number
  /** Time allowed for the whole exchange, DNS to last byte, in milliseconds (default 5000). */
  readonly timeoutMs?: number
}

/** Why a fetch was refused or failed; `message` is for logs (it may name the URL's host). */
export type SafeFetchFailure = 'url' | 'scheme' | 'address' | 'redirect' | 'status' | 'size' | 'timeout' | 'network'

/** A refused or failed outbound request. */
export class SafeFetchError extends Error {
  readonly reason: SafeFetchFailure
  /** The answer's HTTP status, when the failure is one (`reason` `status` or `redirect`). */
  readonly status: number | undefined
  constructor (reason: SafeFetchFailure, message: string, status?: number) {
    super(message)
    this.name = 'SafeFetchError'
    this.reason = reason
    this.status = status
  }
}

/** What a request sends and accepts, besides the URL; GET of JSON answered 200 by default. */
export interface SafeFetchInit {
  /** The `Accept` header (default `application/json`). */
  readonly accept?: string
  /** `POST` sends `body` (Back-Channel Logout's logout tokens); default `GET`. */
  readonly method?: 'GET' | 'POST'
  /** The request body, with `contentType` (`POST` only). */
  readonly body?: string
  /** The body's media type (default `application/x-www-form-urlencoded`). */
  readonly contentType?: string
  /** The statuses that are success (default 200 only); any other is a `status` failure, a 3xx a `redirect` one. */
  readonly okStatuses?: readonly number[]
  /** Aborts the exchange (as a `network` failure), for a caller that stops early. */
  readonly signal?: AbortSignal
}

/** A successful response (200, or a status of `okStatuses`). */
export interface SafeFetchResponse {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
}

/** GETs (or POSTs to) a URL under the policy it was created with. */
export type SafeFetch = (url: string, options?: SafeFetchInit) => Promise<SafeFetchResponse>

const DEFAULT_MAX_BYTES = 64 * 1024
const DEFAULT_TIMEOUT_MS = 5000

/**
 * A `lookup` for `http.request` that resolves every address of the name and refuses the name
 * when any of them is not public (an attacker's name may list a public address first), then
 * hands the connection only the addresses it checked.
 */
function checkedLookup (allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0, hints: options.hints ?? 0 }, (err, addresses: LookupAddress[]) => {
      if (err !== null) {
        callback(err, '', 0)
        return
      }
      const refused = allowPrivate ? undefined : addresses.find((a) => !isPublicAddress(a.address))
      if (refused !== undefined || addresses.length === 0) {
        callback(new SafeFetchError('address', `${hostname} resolves to a non-public address`), '', 0)
        return
      }
      const first = addresses[0] as LookupAddress
      // Node asks for every address when it races IPv4 and IPv6 (autoSelectFamily), else for one.
      if (options.all === true) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses)
      else callback(null, first.address, first.family)
    })
  }
}

/** Parses and checks the URL before any network activity. */
function checkUrl (input: string, allowHttp: boolean, allowPrivate: boolean): URL {
  let url: URL
  try {
    url = new URL(input)
  } catch {
    throw new SafeFetchError('url', 'not an absolute URL')
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) throw new SafeFetchError('scheme', `${url.protocol} URLs are not fetched (https only)`)
  if (url.username !== '' || url.password !== '') throw new SafeFetchError('url', 'URLs with user information are not fetched')
  // An IP literal is connected to without a DNS lookup, so it is checked here. The WHATWG parser
  // has already normalised decimal, octal and hexadecimal IPv4 forms to dotted decimal.
  if (isIP(url.hostname.replace(/^\[|\]$/g, '')) !== 0 && !allowPrivate && !isPublicAddress(url.hostname)) {
    throw new SafeFetchError('address', `${url.hostname} is not a public address`)
  }
  return url
}

/** Builds the fetcher; the options are fixed for its lifetime. */
export function createSafeFetch (options: SafeFetchOptions = {}): SafeFetch {
  const allowHttp = options.allowHttp === true
  const allowPrivate = options.allowPrivateAddresses === true
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const lookup = checkedLookup(allowPrivate)
  const ca = options.ca === undefined ? undefined : Array.isArray(options.ca) ? [...options.ca as ReadonlyArray<string | Buffer>] : options.ca as string | Buffer
  return async (input, init = {}) => {
    const url = checkUrl(input, allowHttp, allowPrivate)
    const method = init.method ?? 'GET'
    const body = method === 'POST' ? Buffer.from(init.body ?? '', 'utf8') : null
    const okStatuses = init.okStatuses ?? [200]
    if (init.signal?.aborted === true) throw new SafeFetchError('network', 'aborted')
    return await new Promise<SafeFetchResponse>((resolve, reject) => {
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest
      const headers: Record<string, string> = { accept: init.accept ?? 'application/json', 'user-agent': 'fastify-oauth-toolkit' }
      if (body !== null) {
        headers['content-type'] = init.contentType ?? 'application/x-www-form-urlencoded'
        headers['content-length'] = String(body.length)
      }
      const req = send(url, {
        method,
        lookup,
        // A fresh connection per request: no pooled socket chosen by an earlier, other lookup.
        agent: false,
        headers,
        ...(ca === undefined ? {} : { ca }),
      })
      let settled = false
      const onAbort = (): void => { fail(new SafeFetchError('network', 'aborted')) }
      const fail = (error: SafeFetchError): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        init.signal?.removeEventListener('abort', onAbort)
        req.destroy()
        reject(error)
      }
      const timer = setTimeout(() => { fail(new SafeFetchError('timeout', `no complete answer within ${timeoutMs} ms`)) }, timeoutMs)
      init.signal?.addEventListener('abort', onAbort, { once: true })
      req.on('error', (err) => {
        fail(err instanceof SafeFetchError ? err : new SafeFetchError('network', err.message))
      })
      req.on('response', (res: IncomingMessage) => {
        const status = res.statusCode ?? 0
        if (status >= 300 && status < 400) return fail(new SafeFetchError('redirect', `redirects are not followed (status ${status})`, status))
        if (!okStatuses.includes(status)) return fail(new SafeFetchError('status', `status ${status}`, status))
        const declared = Number(res.headers['content-length'] ?? '0')
        if (declared > maxBytes) return fail(new SafeFetchError('size', `larger than ${maxBytes} bytes`))
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > maxBytes) fail(new SafeFetchError('size', `larger than ${maxBytes} bytes`))
          else chunks.push(chunk)
        })
        res.on('error', (err) => { fail(new SafeFetchError('network', err.message)) })
        res.on('end', () => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          init.signal?.removeEventListener('abort', onAbort)
          resolve({ status, headers: res.headers, body: Buffer.concat(chunks) })
        })
      })
      req.end(body ?? undefined)
    })
  }
}
