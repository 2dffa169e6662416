// The example app's environment variables, read and checked once for `npm start` (server.ts) and
// `npm run example -- check` (manage.ts), so that both see the same issuer and secrets.
import { isIP } from 'node:net'

/** A mistake in the example app's environment: reported as its message alone. */
export class StartupError extends Error {}

/** Client ID Metadata Documents, as CIMD_ENABLED and CIMD_ALLOWED_HOSTS ask: off unless CIMD_ENABLED=1. */
export interface CimdEnvironment {
  readonly enabled: boolean
  /** Host names (`.example.com` for subdomains too), from the space- or comma-separated CIMD_ALLOWED_HOSTS; empty: any public host. */
  readonly allowedHosts: readonly string[]
}

/** CIMD_ENABLED (`1` or `0`, default off) and CIMD_ALLOWED_HOSTS, checked. */
export function cimdEnvironment (env: NodeJS.ProcessEnv = process.env): CimdEnvironment {
  const raw = env.CIMD_ENABLED ?? ''
  if (!['', '0', '1'].includes(raw)) throw new StartupError(`CIMD_ENABLED must be 1 (on) or 0 (off); got "${raw}"`)
  const allowedHosts = (env.CIMD_ALLOWED_HOSTS ?? '').split(/[\s,]+/).filter((h) => h !== '').map((h) => h.toLowerCase())
  return { enabled: raw === '1', allowedHosts }
}

/** Names proxy-addr (Fastify's `trustProxy`) understands for whole ranges. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal'])

/**
 * TRUST_PROXY: the addresses of the TLS-terminating proxies in front of the app (space- or
 * comma-separated addresses, CIDR ranges, or `loopback`/`linklocal`/`uniquelocal`), for
 * Fastify's `trustProxy`. Only requests from them may say, in X-Forwarded-For/-Proto, who the
 * client is and that it came over https. Unset: nobody may, and behind a proxy every client has
 * the proxy's address. `true` (trust any hop) is refused: a client reaching the app directly
 * would choose its own address and escape the per-address limits.
 */
export function trustedProxies (env: NodeJS.ProcessEnv = process.env): readonly string[] | undefined {
  const raw = (env.TRUST_PROXY ?? '').trim()
  if (raw === '') return undefined
  const entries = raw.split(/[\s,]+/).filter((e) => e !== '')
  for (const entry of entries) {
    if (PROXY_RANGE_NAMES.has(entry)) continue
    const [address = '', bits, extra] = entry.split('/')
    const family = isIP(address)
    const prefixOk = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32))
    if (family === 0 || !prefixOk || extra !== undefined) {
      throw new StartupError(`TRUST_PROXY must list the proxies' addresses or CIDR ranges (or loopback, linklocal, uniquelocal); got "${entry}"`)
    }
  }
  return entries
}

/** The example app's environment: HOST, PORT, ISSUER, SESSION_SECRET, OAT_CLIENT_SECRET_SEALING_KEY, TRUST_PROXY and the CIMD switches, checked. */
export function environment (env: NodeJS.ProcessEnv = process.env): { host: string, port: number, issuer: string, secret: string | undefined, sealingKey: string | undefined, trustProxy: readonly string[] | undefined, cimd: CimdEnvironment } {
  const host = env.HOST ?? '127.0.0.1'
  const rawPort = env.PORT ?? '8000'
  const port = Number(rawPort)
  if (!/^\d+$/.test(rawPort) || !Number.isSafeInteger(port) || port > 65535) throw new StartupError(`PORT must be a port number from 0 to 65535; got "${rawPort}"`)
  const secret = env.SESSION_SECRET
  if (secret !== undefined && secret.length < 32) throw new StartupError(`SESSION_SECRET must be at least 32 characters; got ${secret.length}`)
  // The same variable the CLI reads, so `createapplication --algorithm HS256` and the server agree.
  const sealingKey = env.OAT_CLIENT_SECRET_SEALING_KEY
  return { host, port, issuer: exampleIssuer(host, port, env.ISSUER), secret, sealingKey: sealingKey === '' ? undefined : sealingKey, trustProxy: trustedProxies(env), cimd: cimdEnvironment(env) }
}

/**
 * The issuer clients see: ISSUER, else this server's own loopback address (the routes are under
 * /o). It is fixed at start, never read from a request's Host header, so a forged Host cannot
 * change discovery, the ID token `iss` or the device `verification_uri`. Listening beyond
 * loopback needs ISSUER: the server cannot know the public URL clients reach it at.
 */
function exampleIssuer (host: string, port: number, configured: string | undefined): string {
  if (configured !== undefined && configured !== '') return configured
  const loopback = new Map([['127.0.0.1', '127.0.0.1'], ['localhost', 'localhost'], ['::1', '[::1]'], ['[::1]', '[::1]']])
  const name = loopback.get(host)
  if (name === undefined) throw new StartupError(`HOST=${host} is not a loopback address: set ISSUER to the public URL of the routes, e.g. ISSUER=https://auth.example.com/o`)
  return `http://${name}:${port}/o`
}
