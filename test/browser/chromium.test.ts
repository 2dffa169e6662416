// The example app's pages in a real browser: Debian's chromium driven by playwright-core. One
// chromium and one example app (in this process, built as `npm start` builds it; see
// test/example-app/in-process.ts) serve both tests, each in a browser context of its own with its
// own user; a chromium start is the dearest thing in the suite after a node process. The staff
// pages run first: they count every application of the server.
import { existsSync } from 'node:fs'
import { chromium } from 'playwright-core'
import t from 'tap'
import { runExampleApp } from '../example-app/in-process.js'
import { adminPagesTests } from './admin.js'
import { managementPagesTests } from './management.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

if (!existsSync(CHROMIUM)) {
  // CI installs chromium and sets OAT_REQUIRE_BROWSER=1, so this never skips there.
  if (process.env.OAT_REQUIRE_BROWSER === '1') throw new Error(`chromium not found at ${CHROMIUM}`)
  t.plan(0, `skipped: no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`)
} else {
  const [server, browser] = await Promise.all([
    runExampleApp(t),
    chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    }),
  ])
  t.teardown(() => browser.close())
  // test/browser/admin.ts
  await adminPagesTests(t, browser, server)
  // test/browser/management.ts
  await managementPagesTests(t, browser, server)
}
