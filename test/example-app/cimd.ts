// The example app with Client ID Metadata Documents turned on (CIMD_ENABLED=1, as
// example-app/README.md shows): discovery says so, a document URL is accepted as client_id, and
// one naming this machine is refused (the example app keeps the production outbound policy).
// Off by default: without the switch nothing is advertised and a URL client_id is unknown.
// Run by http-probes.test.ts: the switched-on app is one of its own, the default one is the app the
// other HTTP tests share.
import type { Test } from 'tap'
import type { ExampleServer } from './support.js'

/** `cimdServer` runs with CIMD_ENABLED=1, `defaultServer` without it. */
export async function cimdTests (t: Test, cimdServer: ExampleServer, defaultServer: ExampleServer): Promise<void> {
  await t.test('CIMD_ENABLED=1: advertised, and a client_id naming a private address is refused on the error page', async (t) => {
    const { base } = cimdServer
    t.equal(cimdServer.env.CIMD_ENABLED, '1')
    const metadata = await (await fetch(`${base}/.well-known/oauth-authorization-server/o`)).json() as Record<string, unknown>
    t.equal(metadata.client_id_metadata_document_supported, true)
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: 'https://127.0.0.1:9/client.json',
      redirect_uri: 'https://attacker.example/cb',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    })
    const res = await fetch(`${base}/o/authorize/?${query.toString()}`, { redirect: 'manual' })
    t.equal(res.status, 400)
    t.equal(res.headers.get('location'), null, 'never redirected')
  })

  await t.test('off by default', async (t) => {
    const { base } = defaultServer
    t.equal(defaultServer.env.CIMD_ENABLED, undefined)
    const metadata = await (await fetch(`${base}/.well-known/oauth-authorization-server/o`)).json() as Record<string, unknown>
    t.equal(metadata.client_id_metadata_document_supported, undefined)
  })
}
