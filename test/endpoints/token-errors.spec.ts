import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import {
  assertJsonError, basicAuth, buildApp, createClient, form, FORM, invalidRequest, postToken, type TestClient, TOKEN_ERRORS,
} from '../helpers/index.js'

const BASIC_CHALLENGE = 'Basic realm="oauth"'

/** One app and one confidential client-credentials client for the whole file. */
async function setup (t: Test): Promise<{ app: FastifyInstance } & TestClient> {
  // Brute-force limits off: these tables send more failures than the limit allows (BRUTE-1 is test/security/brute-force.test.ts).
  const app = await buildApp(t, { settings: { rateLimitFailures: null } })
  return { app, ...await createClient(app) }
}

/** An RFC 6749 §5.2 error: the status, the exact body, JSON and never cached. */
function assertError (t: Test, res: LightMyRequestResponse, status: number, body: object): void {
  assertJsonError(t, res, status, body)
  t.equal(res.headers.pragma, 'no-cache')
}

t.test('repeated parameters are refused with invalid_request (RFC 6749 §3.2)', async (t) => {
  const { app, clientId, secret, authorization } = await setup(t)
  const cases: Array<[string, Record<string, string | string[]>, Record<string, string>, string]> = [
    ['grant_type twice', { grant_type: ['client_credentials', 'client_credentials'] }, { authorization }, 'grant_type'],
    ['grant_type twice, different values', { grant_type: ['client_credentials', 'password'] }, { authorization }, 'grant_type'],
    ['scope twice', { grant_type: 'client_credentials', scope: ['read', 'write'] }, { authorization }, 'scope'],
    ['client_id twice', { grant_type: 'client_credentials', client_id: [clientId, clientId], client_secret: secret }, {}, 'client_id'],
    ['client_secret twice', { grant_type: 'client_credentials', client_id: clientId, client_secret: [secret, 'other'] }, {}, 'client_secret'],
  ]
  for (const [name, params, headers, repeated] of cases) {
    assertError(t, await postToken(app, params, headers), 400, invalidRequest(`Parameter repeated: ${repeated}.`))
    t.comment(name)
  }
  const both = await postToken(app, { grant_type: 'client_credentials', scope: ['read', 'read'], client_id: [clientId, clientId], client_secret: secret })
  assertError(t, both, 400, invalidRequest('Parameter repeated: client_id, scope.'))
})

t.test('a parameter in both the query string and the body counts as repeated', async (t) => {
  const { app, authorization } = await setup(t)
  for (const [query, repeated] of [['grant_type=password', 'grant_type'], ['scope=write', 'scope'], ['scope=read&scope=read', 'scope']] as const) {
    const res = await app.inject({
      method: 'POST',
      url: `/o/token/?${query}`,
      payload: form({ grant_type: 'client_credentials', scope: 'read' }),
      headers: { ...FORM, authorization },
    })
    assertError(t, res, 400, invalidRequest(`Parameter repeated: ${repeated}.`))
  }
})

t.test('parameters the grant does not read may repeat, and are ignored', async (t) => {
  const { app, authorization } = await setup(t)
  const res = await postToken(app, { grant_type: 'client_credentials', state: ['a', 'b'], username: ['x', 'y'] }, { authorization })
  t.equal(res.statusCode, 200)
})

t.test('a missing or empty grant_type is invalid_request', async (t) => {
  const { app, authorization } = await setup(t)
  assertError(t, await postToken(app, {}, { authorization }), 400, invalidRequest('Request is missing grant_type parameter.'))
  assertError(t, await postToken(app, { grant_type: '' }, { authorization }), 400, invalidRequest('Request is missing grant_type parameter.'))
  assertError(t, await postToken(app, { scope: 'read' }), 400, invalidRequest('Request is missing grant_type parameter.'))
})

t.test('an unknown grant_type is unsupported_grant_type', async (t) => {
  const { app, authorization } = await setup(t)
  for (const grantType of ['client-credentials', 'CLIENT_CREDENTIALS', 'implicit', 'token', 'urn:ietf:params:oauth:grant-type:jwt-bearer', '__proto__', 'constructor', 'toString']) {
    assertError(t, await postToken(app, { grant_type: grantType }, { authorization }), 400, TOKEN_ERRORS.unsupportedGrantType)
  }
})

t.test('bodies that are not a form get a JSON invalid_request, never a 500', async (t) => {
  const { app, authorization } = await setup(t)
  const post = async (payload: string | Buffer | undefined, contentType?: string): Promise<LightMyRequestResponse> => {
    const headers: Record<string, string> = { authorization }
    if (contentType !== undefined) headers['content-type'] = contentType
    return await app.inject({ method: 'POST', url: '/o/token/', payload, headers })
  }
  await t.test('JSON with the right fields', async (t) => {
    assertError(t, await post(JSON.stringify({ grant_type: 'client_credentials' }), 'application/json'), 400, TOKEN_ERRORS.notForm)
  })
  await t.test('broken JSON', async (t) => {
    assertError(t, await post('{"grant_type":', 'application/json'), 400, TOKEN_ERRORS.unparsable)
  })
  await t.test('text/plain', async (t) => {
    assertError(t, await post('grant_type=client_credentials', 'text/plain'), 400, TOKEN_ERRORS.notForm)
  })
  await t.test('multipart/form-data', async (t) => {
    const boundary = 'XyZ'
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\nclient_credentials\r\n--${boundary}--\r\n`
    assertError(t, await post(body, `multipart/form-data; boundary=${boundary}`), 400, TOKEN_ERRORS.unparsable)
  })
  await t.test('an unknown media type', async (t) => {
    assertError(t, await post('<grant_type/>', 'application/xml'), 400, TOKEN_ERRORS.unparsable)
  })
  await t.test('no body and no content type', async (t) => {
    assertError(t, await post(undefined), 400, TOKEN_ERRORS.notForm)
  })
  await t.test('a form content type with an empty body', async (t) => {
    assertError(t, await post('', 'application/x-www-form-urlencoded'), 400, invalidRequest('Request is missing grant_type parameter.'))
  })
  await t.test('a form body over 64 KiB', async (t) => {
    const payload = form({ grant_type: 'client_credentials', scope: 'read', padding: 'x'.repeat(64 * 1024) })
    assertError(t, await post(payload, 'application/x-www-form-urlencoded'), 400, TOKEN_ERRORS.unparsable)
  })
  await t.test('a JSON body over 64 KiB', async (t) => {
    assertError(t, await post(JSON.stringify({ padding: 'x'.repeat(64 * 1024) }), 'application/json'), 400, TOKEN_ERRORS.unparsable)
  })
  await t.test('a form with a charset parameter is still a form', async (t) => {
    const res = await post(form({ grant_type: 'client_credentials' }), 'application/x-www-form-urlencoded; charset=UTF-8')
    t.equal(res.statusCode, 200)
  })
  await t.test('a form just under the limit is accepted', async (t) => {
    const payload = form({ grant_type: 'client_credentials', padding: 'x'.repeat(60 * 1024) })
    t.equal((await post(payload, 'application/x-www-form-urlencoded')).statusCode, 200)
  })
})

t.test('a garbled Basic header is 401 invalid_client with a Basic challenge, never a 500', async (t) => {
  const { app, clientId, secret } = await setup(t)
  const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64')
  const headers: Array<[string, string]> = [
    ['scheme only', 'Basic'],
    ['scheme and a space', 'Basic '],
    ['not base64', 'Basic !!!not*base64'],
    ['base64 with bad padding', 'Basic abc'],
    ['no colon', `Basic ${b64(`${clientId}${secret}`)}`],
    ['empty client id', `Basic ${b64(`:${secret}`)}`],
    ['empty everything', `Basic ${b64(':')}`],
    ['bad percent-encoding in the id', `Basic ${b64(`${clientId}%ZZ:${secret}`)}`],
    ['bad percent-encoding in the secret', `Basic ${b64(`${clientId}:${secret}%`)}`],
    ['not UTF-8', `Basic ${b64(Buffer.from([0xff, 0xfe, 0x3a, 0x80]))}`],
    ['right id, empty secret', `Basic ${b64(`${clientId}:`)}`],
    ['right id, wrong secret', basicAuth(clientId, `${secret}x`)],
    ['unknown id', basicAuth('no-such-client', secret)],
    ['SQL in the id', basicAuth("' OR 1=1 --", secret)],
    ['a very long id', basicAuth('a'.repeat(10_000), secret)],
  ]
  for (const [name, authorization] of headers) {
    const res = await postToken(app, { grant_type: 'client_credentials' }, { authorization })
    assertError(t, res, 401, TOKEN_ERRORS.invalidClient)
    t.equal(res.headers['www-authenticate'], BASIC_CHALLENGE, name)
  }
})

t.test('the Basic scheme name is case-insensitive and may carry extra spaces', async (t) => {
  const { app, clientId, secret } = await setup(t)
  const encoded = basicAuth(clientId, secret).slice('Basic '.length)
  for (const authorization of [`basic ${encoded}`, `BASIC ${encoded}`, `Basic   ${encoded}`]) {
    t.equal((await postToken(app, { grant_type: 'client_credentials' }, { authorization })).statusCode, 200, authorization.slice(0, 8))
  }
})

t.test('no client authentication at all is 401 invalid_client without a Basic challenge', async (t) => {
  const { app } = await setup(t)
  const cases: Array<Record<string, string>> = [{}, { authorization: 'Bearer abc' }, { authorization: 'Digest username="x"' }]
  for (const headers of cases) {
    const res = await postToken(app, { grant_type: 'client_credentials' }, headers)
    assertError(t, res, 401, TOKEN_ERRORS.invalidClient)
    t.equal(res.headers['www-authenticate'], undefined)
  }
})

t.test('other methods get 405 with Allow: POST and a JSON error', async (t) => {
  const { app } = await setup(t)
  for (const url of ['/o/token/', '/o/token']) {
    for (const method of ['GET', 'PUT', 'PATCH', 'DELETE'] as const) {
      const res = await app.inject({ method, url, query: { grant_type: 'client_credentials' } })
      assertError(t, res, 405, invalidRequest('Method not allowed; use POST.'))
      t.equal(res.headers.allow, 'POST', `${method} ${url}`)
    }
    const head = await app.inject({ method: 'HEAD', url })
    t.equal(head.statusCode, 405, `HEAD ${url}`)
    t.equal(head.headers.allow, 'POST')
  }
})

t.test('odd parameter values are 4xx OAuth errors, never a 500', async (t) => {
  const { app, clientId, authorization } = await setup(t)
  const odd: Array<[Record<string, string>, Record<string, string>, number, string]> = [
    [{ grant_type: 'client_credentials', scope: 'read "write"' }, { authorization }, 400, 'invalid_scope'],
    [{ grant_type: 'client_credentials', scope: 'read\u0000' }, { authorization }, 400, 'invalid_scope'],
    [{ grant_type: 'client_credentials', scope: 'read\u00e9' }, { authorization }, 400, 'invalid_scope'],
    [{ grant_type: 'client_credentials', scope: "read' OR '1'='1" }, { authorization }, 400, 'invalid_scope'],
    [{ grant_type: 'client_credentials', client_id: `${clientId}\u0000`, client_secret: 'x' }, {}, 401, 'invalid_client'],
    [{ grant_type: 'client_credentials', client_id: '%', client_secret: '%' }, {}, 401, 'invalid_client'],
  ]
  for (const [params, headers, status, error] of odd) {
    const res = await postToken(app, params, headers)
    t.equal(res.statusCode, status, JSON.stringify(params).slice(0, 60))
    if (error !== '') t.equal(res.json<{ error: string }>().error, error)
  }
  const prototypeKeys = await app.inject({ method: 'POST', url: '/o/token/', payload: 'grant_type=client_credentials&__proto__=x&constructor=y&hasOwnProperty=z', headers: { ...FORM, authorization } })
  t.equal(prototypeKeys.statusCode, 200, 'prototype-named parameters are plain data')
  const rawPercent = await app.inject({ method: 'POST', url: '/o/token/', payload: 'grant_type=client_credentials&scope=%ZZ%', headers: { ...FORM, authorization } })
  t.ok(rawPercent.statusCode >= 400 && rawPercent.statusCode < 500, `malformed percent-encoding: ${rawPercent.statusCode}`)
  const brackets = await app.inject({ method: 'POST', url: '/o/token/', payload: 'grant_type[]=client_credentials&grant_type[x]=y', headers: { ...FORM, authorization } })
  assertError(t, brackets, 400, invalidRequest('Request is missing grant_type parameter.'))
})
