// The staff administration pages in a real browser: Debian's chromium driven by playwright-core
// against the example app, where the tutorial user alice is staff. Log in, filter the
// applications, edit one, revoke a user's refresh token family and see the token endpoint refuse
// it. A screenshot of each page goes to test-results/screenshots/admin-*.png. Run by
// chromium.test.ts, first on the app it shares with management.ts: the filters count every
// application of the server, so none but these two may exist yet.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import type { Test } from 'tap'
import { cli } from '../cli/helpers.js'
import { createUser } from '../example-app/in-process.js'
import { ROOT, type ExampleServer } from '../example-app/support.js'

const SCREENSHOTS = join(ROOT, 'test-results', 'screenshots')

/** The staff pages in `browser` (chromium) against the example app at `server`, which holds no application yet. */
export async function adminPagesTests (t: Test, browser: Browser, server: ExampleServer): Promise<void> {
  await t.test('staff pages in chromium: log in as staff, filter applications, edit one, revoke a refresh token family', async (t) => {
    // The CLI in process (the README quick start test runs it through npm).
    const create = async (...args: string[]): Promise<string> => {
      const r = await cli(['createapplication', ...args, '--database', server.database, '--json'])
      if (r.code !== 0) throw new Error(r.stderr)
      return r.stdout
    }
    const [, , cliOut] = await Promise.all([
      createUser(server, 'alice', 'wonderland'),
      create('confidential', 'client-credentials', '--name', 'Billing export'),
      create('public', 'password', '--name', 'Tutorial CLI'),
    ])
    const tutorialCli = JSON.parse(cliOut) as { client_id: string }
    const tokenRequest = async (fields: Record<string, string>): Promise<Response> => await fetch(`${server.base}/o/token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: tutorialCli.client_id, ...fields }).toString(),
    })
    const issued = await tokenRequest({ grant_type: 'password', username: 'alice', password: 'wonderland', scope: 'read' })
    t.equal(issued.status, 200)
    const { refresh_token: refreshToken, access_token: accessToken } = await issued.json() as { refresh_token: string, access_token: string }
    mkdirSync(SCREENSHOTS, { recursive: true })

    // A page of its own context: cookies of its own, logged out.
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    t.teardown(() => page.context().close())
    const shot = async (name: string): Promise<void> => { await page.screenshot({ path: join(SCREENSHOTS, `admin-${name}.png`), fullPage: true }) }

    // Anonymous: the login page, then back to the staff pages.
    await page.goto(`${server.base}/o/admin/`)
    t.match(page.url(), /\/accounts\/login\/\?next=%2Fo%2Fadmin%2F/)
    await page.getByLabel('Username').fill('alice')
    await page.getByLabel('Password').fill('wonderland')
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.waitForURL(`${server.base}/o/admin/`)
    await shot('01-overview')

    // Filter the applications: by name, then by source and grant type.
    await page.getByRole('navigation').getByRole('link', { name: 'Applications' }).click()
    await page.waitForURL(`${server.base}/o/admin/applications/`)
    t.equal(await page.locator('tbody tr').count(), 2)
    await page.getByLabel('Name or client id contains').fill('billing')
    await page.getByRole('button', { name: 'Filter' }).click()
    await page.waitForURL(/\?q=billing/)
    t.equal(await page.locator('tbody tr').count(), 1, 'one application matches')
    t.match(await page.locator('tbody').textContent(), /Billing export/)
    await page.getByLabel('Name or client id contains').fill('')
    await page.getByLabel('Grant type').selectOption('password')
    await page.getByLabel('Source').selectOption('operator')
    await page.getByRole('button', { name: 'Filter' }).click()
    await page.waitForURL(/grantType=password/)
    t.equal(await page.locator('tbody tr').count(), 1)
    t.match(await page.locator('tbody').textContent(), /Tutorial CLI/)
    await shot('02-applications-filtered')

    // Edit it: rename, and skip the consent page (a staff-only setting).
    await page.locator('tbody tr').first().getByRole('link').first().click()
    await page.waitForURL(/\/o\/admin\/applications\/\d+\/$/)
    await shot('03-application-detail')
    await page.getByRole('link', { name: 'Edit' }).click()
    await page.getByLabel('Name', { exact: true }).fill('Tutorial CLI (reviewed)')
    await page.getByLabel('Skip the consent page').selectOption('yes')
    await shot('04-application-edit')
    await page.getByRole('button', { name: 'Save' }).click()
    await page.waitForURL(/\?saved=1$/)
    t.match(await page.locator('[role=status]').textContent(), /Saved/)
    t.match(await page.locator('h1').textContent(), /Tutorial CLI \(reviewed\)/)
    t.equal((await page.locator('#skip-authorization').textContent())?.trim(), 'yes')

    // Revoke alice's refresh token family from the list of refresh tokens issued to it.
    await page.getByRole('link', { name: 'Refresh tokens' }).last().click()
    await page.waitForURL(/\/o\/admin\/refresh-tokens\/\?application=\d+$/)
    const listHtml = await page.content()
    t.notOk(listHtml.includes(refreshToken) || listHtml.includes(accessToken), 'the tokens themselves are never on the page')
    t.equal(await page.locator('tbody tr').count(), 1)
    await page.locator('tbody input[type=checkbox]').check()
    await shot('05-refresh-tokens')
    await page.getByRole('button', { name: 'Revoke selected families' }).click()
    t.match(await page.locator('h1').textContent(), /Revoke the selected refresh token families\?/)
    await shot('06-revoke-confirm')
    await page.getByRole('button', { name: 'Revoke selected families' }).click()
    await page.waitForURL(/\/o\/admin\/refresh-tokens\/\?done=1&of=1$/)
    t.match(await page.locator('[role=status]').textContent(), /1 of 1 selected changed/)
    t.equal(await page.locator('tbody input[type=checkbox]').count(), 0, 'the revoked family has nothing left to select')
    await shot('07-revoked')

    const refreshed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken })
    t.equal(refreshed.status, 400, 'the token endpoint refuses the revoked family')
    t.equal((await refreshed.json() as { error: string }).error, 'invalid_grant')
    t.equal((await fetch(`${server.base}/api/hello`, { headers: { authorization: `Bearer ${accessToken}` } })).status, 403, 'its access token is gone too')
  })
}
