// The management pages in a real browser: Debian's chromium driven by playwright-core against
// the example app. Log in, register an application, read its secret, authorize it by clicking,
// find the grant under authorized tokens, revoke it, and see the API refuse the token, then see
// the pages in French. A screenshot of each page goes to test-results/screenshots/. Run by
// chromium.test.ts on the app it shares with admin.ts; its user bob sees only his own
// applications and grants.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import type { Test } from 'tap'
import { createUser } from '../example-app/in-process.js'
import { ROOT, type ExampleServer } from '../example-app/support.js'

const SCREENSHOTS = join(ROOT, 'test-results', 'screenshots')

/** The management pages in `browser` (chromium) against the example app at `server`. */
export async function managementPagesTests (t: Test, browser: Browser, server: ExampleServer): Promise<void> {
  await t.test('management pages in chromium: register, authorize, revoke', async (t) => {
    await createUser(server, 'bob', 'wonderland')
    mkdirSync(SCREENSHOTS, { recursive: true })

    // A page of its own context: cookies of its own, logged out.
    const page = await browser.newPage()
    t.teardown(() => page.context().close())
    const shot = async (name: string): Promise<void> => { await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true }) }

    // Log in (the management pages send anonymous users to the login page and back).
    await page.goto(`${server.base}/o/applications/`)
    t.match(page.url(), /\/accounts\/login\/\?next=/)
    await shot('01-login')
    await page.getByLabel('Username').fill('bob')
    await page.getByLabel('Password').fill('wonderland')
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.waitForURL(`${server.base}/o/applications/`)
    await shot('02-applications-empty')

    // Register a confidential authorization-code application; a bad redirect URI first.
    const redirectUri = 'http://127.0.0.1:9/callback'
    await page.getByRole('link', { name: 'New application' }).click()
    await page.getByLabel('Name', { exact: true }).fill('Photo printer')
    await page.getByLabel('Client type').selectOption('confidential')
    await page.getByLabel('Authorization grant type').selectOption('authorization-code')
    await page.getByLabel('Redirect URIs', { exact: true }).fill('http://printer.example/callback')
    await page.getByRole('button', { name: 'Save' }).click()
    t.match(await page.locator('#redirectUris-error').textContent(), /must use https/, 'the error is shown beside the field')
    await shot('03-register-error')
    await page.getByLabel('Redirect URIs', { exact: true }).fill(redirectUri)
    await page.getByRole('button', { name: 'Save' }).click()
    const clientId = (await page.locator('#client-id').textContent()) ?? ''
    const clientSecret = (await page.locator('#client-secret').textContent()) ?? ''
    t.match(clientSecret, /^\w{128}$/, 'the secret is shown once')
    await shot('04-application-created')

    // Authorize it by clicking, as the application's user would.
    await page.route('http://127.0.0.1:9/**', (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'client callback' }))
    const verifier = 'a'.repeat(43)
    const { createHash } = await import('node:crypto')
    const challenge = createHash('sha256').update(verifier).digest('base64url')
    const authorize = new URL(`${server.base}/o/authorize/`)
    for (const [k, v] of Object.entries({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope: 'read', state: 's1', code_challenge: challenge, code_challenge_method: 'S256' })) {
      authorize.searchParams.set(k, v)
    }
    await page.goto(authorize.toString())
    t.match(await page.locator('h1').textContent(), /Photo printer/)
    await shot('05-consent')
    await page.getByRole('button', { name: 'Authorize' }).click()
    await page.waitForURL(/127\.0\.0\.1:9\/callback/)
    const callback = new URL(page.url())
    t.equal(callback.searchParams.get('state'), 's1')
    const code = callback.searchParams.get('code') ?? ''

    const tokenRes = await fetch(`${server.base}/o/token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }).toString(),
    })
    t.equal(tokenRes.status, 200)
    const { access_token: accessToken } = await tokenRes.json() as { access_token: string }
    const hello = async (): Promise<number> => (await fetch(`${server.base}/api/hello`, { headers: { authorization: `Bearer ${accessToken}` } })).status
    t.equal(await hello(), 200)

    // Find the grant under authorized tokens and revoke it.
    await page.goto(`${server.base}/o/authorized-tokens/`)
    t.match(await page.locator('main').textContent(), /Photo printer/)
    await shot('06-authorized-tokens')
    await page.getByRole('link', { name: 'Revoke' }).click()
    await shot('07-revoke-confirm')
    await page.getByRole('button', { name: 'Revoke' }).click()
    await page.waitForURL(`${server.base}/o/authorized-tokens/`)
    t.match(await page.locator('main').textContent(), /not granted any application/)
    await shot('08-authorized-tokens-empty')
    t.equal(await hello(), 403, '/api/hello refuses the revoked token')

    // The same pages for a browser that prefers French: nothing to configure in the example app.
    await page.setExtraHTTPHeaders({ 'accept-language': 'fr-FR,fr;q=0.9,en;q=0.5' })
    await page.goto(`${server.base}/o/applications/`)
    t.equal(await page.locator('html').getAttribute('lang'), 'fr')
    t.equal(await page.locator('h1').textContent(), 'Vos applications')
    t.match(await page.locator('main').textContent(), /1 application/)
    await page.getByRole('link', { name: 'Photo printer' }).click()
    t.match(await page.locator('main').textContent(), /Identifiant du client/)
    await shot('09-application-fr')

    await checkPage(t, page)
  })
}

/** Every page loads nothing from another origin (LEAK-2). */
async function checkPage (t: Test, page: Page): Promise<void> {
  const origins: string[] = []
  for (const element of await page.locator('[src], [href]').all()) {
    const value = (await element.getAttribute('src')) ?? (await element.getAttribute('href')) ?? ''
    origins.push(new URL(value, page.url()).origin)
  }
  t.ok(origins.every((o) => o === new URL(page.url()).origin), 'only same-origin assets')
}
