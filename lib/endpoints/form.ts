import { InvalidRequestError } from '../errors.js'
import type { OAuthRequest, Params } from '../request.js'

/** RFC 6749 §4.1.3 and friends: parameters travel form-encoded in the body. */
export function requireFormBody (req: OAuthRequest): Params {
  if (req.unsupportedBody || req.body === null) {
    throw new InvalidRequestError({ description: 'The request body must be application/x-www-form-urlencoded.' })
  }
  return req.body
}
