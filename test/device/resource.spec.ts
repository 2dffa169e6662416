// RFC 8707 resource indicators in the device flow: `resource` at device authorization binds the
// grant, the confirm page names the resources, and polling may only narrow them.
import t from 'tap'
import { postToken } from '../helpers/index.js'
import { buildDeviceApp, createDeviceApplication, decide, DEVICE_GRANT, deviceCode, enterCode, getPage, requestDeviceCode } from './support.js'

const MCP = 'https://mcp.example.com/mcp'
const API = 'https://api.example.com/'
const INVALID_TARGET = { error: 'invalid_target', error_description: 'The requested resource is invalid, unknown, or not allowed.' }

const app = await buildDeviceApp(t, { settings: { protectedResources: [{ resource: MCP }, { resource: API }] } })
const tv = await createDeviceApplication(app)

/** The declared resources whose routes accept the access token (a bound token is refused elsewhere). */
async function audienceOf (token: string): Promise<readonly string[]> {
  const accepted: string[] = []
  for (const resource of [MCP, API]) {
    const result = await app.oauth.authenticateBearer({ authorization: `Bearer ${token}`, queryToken: undefined }, [], resource)
    if (result.ok) accepted.push(resource)
  }
  return accepted
}

async function pollFor (code: string, resource?: string): Promise<{ statusCode: number, body: Record<string, string> }> {
  const res = await postToken(app, { grant_type: DEVICE_GRANT, device_code: code, client_id: tv.application.clientId, ...(resource === undefined ? {} : { resource }) })
  return { statusCode: res.statusCode, body: res.json() }
}

t.test('resource at device authorization binds the tokens; the confirm page shows the resources', async (t) => {
  const { device_code: code, user_code: userCode } = await deviceCode(app, tv, { resource: [MCP, API] })
  const entered = await enterCode(app, userCode)
  t.equal(entered.statusCode, 302)
  const confirm = await getPage(app, String(entered.headers.location))
  t.match(confirm.body, /Access is for:[\s\S]*<li>https:\/\/mcp\.example\.com\/mcp<\/li>[\s\S]*<li>https:\/\/api\.example\.com\/<\/li>/, 'the user sees which services')
  t.equal((await decide(app, userCode, true)).statusCode, 200)
  const res = await pollFor(code)
  t.equal(res.statusCode, 200)
  t.same(await audienceOf(res.body.access_token ?? ''), [MCP, API], 'no resource at the poll: every resource of the grant')

  // The refresh token keeps the grant's resources and may narrow them (RFC 8707 §2.2).
  const refreshed = await postToken(app, { grant_type: 'refresh_token', refresh_token: res.body.refresh_token ?? '', client_id: tv.application.clientId, resource: API })
  t.equal(refreshed.statusCode, 200, refreshed.body)
  t.same(await audienceOf(refreshed.json<{ access_token: string }>().access_token), [API])
})

t.test('polling may narrow the resources, never widen them', async (t) => {
  const { device_code: code, user_code: userCode } = await deviceCode(app, tv, { resource: MCP })
  await decide(app, userCode, true)
  const widened = await pollFor(code, API)
  t.equal(widened.statusCode, 400)
  t.same(widened.body, INVALID_TARGET, 'a resource beyond the grant is invalid_target')
  const narrowed = await pollFor(code, MCP)
  t.equal(narrowed.statusCode, 200, 'the refused poll consumed nothing')
  t.same(await audienceOf(narrowed.body.access_token ?? ''), [MCP])
})

t.test('a grant without resource stays unrestricted unless the poll binds one', async (t) => {
  const { device_code: code, user_code: userCode } = await deviceCode(app, tv)
  const confirm = await getPage(app, String((await enterCode(app, userCode)).headers.location))
  t.notMatch(confirm.body, 'Access is for:', 'nothing to show')
  await decide(app, userCode, true)
  const res = await pollFor(code, API)
  t.equal(res.statusCode, 200)
  t.same(await audienceOf(res.body.access_token ?? ''), [API])

  const { device_code: open, user_code: openUser } = await deviceCode(app, tv)
  await decide(app, openUser, true, { user: 'user-bob', ip: '192.0.2.7' }) // the entry limit counts per user and IP
  const unbound = await pollFor(open)
  t.same(await audienceOf(unbound.body.access_token ?? ''), [], 'unbound: refused on routes that declare a resource')
  t.ok((await app.oauth.authenticateBearer({ authorization: `Bearer ${unbound.body.access_token ?? ''}`, queryToken: undefined })).ok, 'and accepted on others')
})

t.test('undeclared or malformed resources at device authorization are invalid_target, nothing stored', async (t) => {
  for (const resource of ['https://elsewhere.example/', 'not a uri', `${API}#fragment`]) {
    const res = await requestDeviceCode(app, tv, { resource })
    t.equal(res.statusCode, 400, resource)
    t.same(res.json(), INVALID_TARGET, resource)
  }
})
