// The README's quick start, run as written: `npm start` on a free port, then the curl steps
// (here with fetch) and the CLI commands, against the example app's own SQLite file.
import t from 'tap'
import { Browser, npmRun, parseForm, scriptRun, startExampleApp } from './support.js'

interface TokenBody { access_token: string, refresh_token?: string, token_type: string, expires_in: number, scope: string }

t.test('the README quick start works against npm start', async (t) => {
  const { base, database, env } = await startExampleApp(t, { npm: true })

  // The README's commands. The server has migrated the file, so they run side by side: part 2's
  // confidential client-credentials application, part 3's user and public password-grant
  // application, and the device flow's TV. Each npm script runs once through npm and tsx as the
  // README types it (`npm start` above, `npm run cli`, `npm run example`); the other commands run
  // the same programs directly (`scriptRun`), which spares npm's and tsx's start-up per command.
  const [createdOut, userOut, cliOut, tvOut, checkOut] = await Promise.all([
    npmRun('cli', ['createapplication', 'confidential', 'client-credentials', '--name', 'Tutorial', '--database', database, '--json'], env),
    npmRun('example', ['createuser', 'alice', '--password', 'wonderland'], env),
    scriptRun('cli', ['createapplication', 'public', 'password', '--name', 'Tutorial CLI', '--database', database, '--json'], env),
    scriptRun('cli', ['createapplication', 'public', 'urn:ietf:params:oauth:grant-type:device_code', '--name', 'Tutorial TV', '--database', database, '--json'], env),
    scriptRun('example', ['check', '--json'], env),
  ])

  // The deployment checks on the app as configured (scriptRun rejects a non-zero exit): no error;
  // the tutorial's loopback issuer and password grant, and DOT's defaults, are warnings.
  const checked = JSON.parse(checkOut) as { errors: number, problems: Array<{ id: string }> }
  t.equal(checked.errors, 0, 'npm run example -- check: the example app has no deployment error')
  t.match(checked.problems.map((p) => p.id), ['oauth.W001', 'oauth.W002'])

  // Part 2: a confidential client-credentials application from the CLI.
  const created = JSON.parse(createdOut) as { client_id: string, client_secret: string }
  t.match(created, { client_id: /^\w{40}$/, client_secret: /^\w{128}$/ })

  t.equal((await fetch(`${base}/api/hello`)).status, 403, '/api/hello without a token is refused')

  const basic = Buffer.from(`${created.client_id}:${created.client_secret}`).toString('base64')
  const tokenRes = await fetch(`${base}/o/token/`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  })
  t.equal(tokenRes.status, 200)
  t.equal(tokenRes.headers.get('cache-control'), 'no-store')
  const token = await tokenRes.json() as TokenBody
  t.match(token, { token_type: 'Bearer', expires_in: 36000, scope: 'read write' })

  const hello = await fetch(`${base}/api/hello`, { headers: { authorization: `Bearer ${token.access_token}` } })
  t.equal(hello.status, 200)
  t.equal(await hello.text(), 'Hello, OAuth2!')

  // Part 3: a user, a public password-grant application, and /api/me.
  t.match(userOut, /created user "alice"/)
  const cli = JSON.parse(cliOut) as { client_id: string }
  const form = (params: Record<string, string>): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  })
  const userToken = await (await fetch(`${base}/o/token/`, form({ grant_type: 'password', username: 'alice', password: 'wonderland', client_id: cli.client_id }))).json() as TokenBody
  t.type(userToken.refresh_token, 'string', 'the password grant issues a refresh token')

  const me = await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${userToken.access_token}` } })
  t.same(await me.json(), { username: 'alice', application: 'Tutorial CLI', scopes: ['read', 'write'] })

  const refreshed = await fetch(`${base}/o/token/`, form({ grant_type: 'refresh_token', refresh_token: userToken.refresh_token ?? '', client_id: cli.client_id }))
  t.equal(refreshed.status, 200, 'the refresh token works once')
  const replay = await fetch(`${base}/o/token/`, form({ grant_type: 'refresh_token', refresh_token: userToken.refresh_token ?? '', client_id: cli.client_id }))
  t.equal(replay.status, 400, 'and is refused after rotation')
  t.equal((await replay.json() as { error: string }).error, 'invalid_grant')

  // The device flow (README "Devices without a browser"): code, user approval in a browser, polling.
  const tv = JSON.parse(tvOut) as { client_id: string }
  const authorization = await fetch(`${base}/o/device-authorization/`, form({ client_id: tv.client_id, scope: 'read' }))
  t.equal(authorization.status, 200)
  const device = await authorization.json() as { device_code: string, user_code: string, verification_uri: string, verification_uri_complete: string, interval: number }
  t.match(device, { user_code: /^[A-Z]{4}-[A-Z]{4}$/, verification_uri: `${base}/o/device/`, interval: 5 })
  const devicePoll = async (): Promise<Response> => await fetch(`${base}/o/token/`, form({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: device.device_code, client_id: tv.client_id }))
  t.equal((await (await devicePoll()).json() as { error: string }).error, 'authorization_pending')

  const browser = new Browser(base)
  const toLogin = await browser.get(device.verification_uri_complete)
  t.equal(toLogin.status, 302, 'the device page asks to log in first')
  const loginPage = await browser.get(toLogin.headers.get('location') ?? '')
  const login = parseForm(await loginPage.text(), /^\/accounts\/login\/$/)
  const loggedIn = await browser.submit(login.action, { ...login.hidden, username: 'alice', password: 'wonderland' })
  const entryPage = await browser.get(loggedIn.headers.get('location') ?? '')
  const entryHtml = await entryPage.text()
  t.match(entryHtml, `value="${device.user_code}"`, 'back on the device page with the code filled in')
  const entry = parseForm(entryHtml, /\/o\/device\/$/)
  const entered = await browser.submit(entry.action, { ...entry.hidden, user_code: device.user_code.toLowerCase() })
  t.equal(entered.status, 302)
  const confirmPage = await browser.get(entered.headers.get('location') ?? '')
  const confirmHtml = await confirmPage.text()
  t.match(confirmHtml, 'Tutorial TV')
  const confirm = parseForm(confirmHtml, /\/o\/device-confirm\/\d+\/$/)
  t.equal((await browser.submit(confirm.action, { ...confirm.hidden, allow: 'Authorize' })).status, 200)

  const deviceTokens = await devicePoll()
  t.equal(deviceTokens.status, 200, 'after approval the poll answers with the tokens')
  const deviceToken = await deviceTokens.json() as TokenBody
  const tvMe = await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${deviceToken.access_token}` } })
  t.same(await tvMe.json(), { username: 'alice', application: 'Tutorial TV', scopes: ['read'] })

  // alice is the tutorial's staff member (example-app/accounts.ts): the administration pages open for her.
  const admin = await browser.get('/o/admin/applications/?q=tutorial')
  t.equal(admin.status, 200, 'the staff pages open for alice')
  t.match(await admin.text(), 'Tutorial TV')

  t.match(await scriptRun('cli', ['cleartokens', '--database', database], env), /./, 'cleartokens runs against the same file')
})
