// Shared by the example-app tests: the example app on a free port against its own SQLite file,
// the npm scripts the README uses, and just enough of a browser (cookies, HTML forms) to click
// through the login and consent pages.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { TS_LOADER_ARGS } from '../helpers/loader.js'

export const ROOT = join(import.meta.dirname, '..', '..')

const SCRIPTS = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts

/**
 * The node arguments of an npm script of the form `tsx <node options> <file.ts>` (start, cli,
 * example): the same program, loaded by the test loader (test/loader/register.mjs) instead of
 * tsx, without npm and tsx's own launcher process in front (each costs a node start). The
 * README quick start test runs the scripts through npm, tsx included.
 */
export function scriptArgs (script: 'start' | 'cli' | 'example'): string[] {
  const [command, ...args] = (SCRIPTS[script] ?? '').split(' ')
  if (command !== 'tsx' || args.length === 0 || !(args.at(-1) ?? '').endsWith('.ts')) throw new Error(`npm script ${script} is not "tsx [options] <file.ts>": ${SCRIPTS[script]}`)
  return [...TS_LOADER_ARGS, ...args]
}

/** The part of a tap `Test` these helpers need. */
interface TestLike {
  testdir (): string
  teardown (fn: () => unknown): void
}

/** A running example app. */
export interface ExampleServer {
  /** `http://127.0.0.1:<port>` */
  base: string
  /** The database (SQLite file or PostgreSQL URL) the app, the CLI and `npm run example` share. */
  database: string
  /** The environment the app runs with; pass it to `npmRun`. */
  env: NodeJS.ProcessEnv
}

export async function freePort (): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** Runs `npm run -s <script> -- <args>` and resolves to its stdout; rejects on a non-zero exit. */
export async function npmRun (script: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const child = spawn('npm', ['run', '-s', script, '--', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const [code] = await once(child, 'close') as [number | null]
  if (code !== 0) throw new Error(`npm run ${script} ${args.join(' ')} failed (${code}): ${stderr}`)
  return stdout
}

/** Runs an npm script's program as `scriptArgs` does, and resolves to its stdout; rejects on a non-zero exit. */
export async function scriptRun (script: 'cli' | 'example', args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const child = spawn(process.execPath, [...scriptArgs(script), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const [code] = await once(child, 'close') as [number | null]
  if (code !== 0) throw new Error(`${script} ${args.join(' ')} failed (${code}): ${stderr}`)
  return stdout
}

/**
 * The process groups of the example-app servers still running. A test's teardown stops its own;
 * these are stopped too when this process exits or is signalled without running teardowns (tap
 * ends a test file that outlives its timeout with SIGALRM, then SIGKILL half a second later, which
 * nothing can catch), so no server outlives its test run.
 */
const runningGroups = new Set<number>()

function stopRunningGroups (): void {
  for (const pid of runningGroups) {
    try {
      process.kill(-pid, 'SIGTERM')
    } catch {
      // Already gone.
    }
  }
  runningGroups.clear()
}

process.once('exit', stopRunningGroups)
for (const signal of ['SIGALRM', 'SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.once(signal, () => {
    stopRunningGroups()
    // Ours was the only listener: die of the signal, as without it.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
  })
}

/** Starts the example app (`npm start`, or its program directly) in its own process group and resolves once the server listens. */
async function startServer (env: NodeJS.ProcessEnv, viaNpm: boolean): Promise<ChildProcess> {
  const [command, args] = viaNpm ? ['npm', ['start']] : [process.execPath, scriptArgs('start')]
  const child = spawn(command, args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  const group = child.pid
  if (group !== undefined) {
    runningGroups.add(group)
    child.once('exit', () => { runningGroups.delete(group) })
  }
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 60_000)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      if (output.includes('Server listening at')) { clearTimeout(timer); resolve() }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${output}`)) })
  })
  return child
}

/**
 * Starts the example app on a free port and a fresh database in the test's directory (or
 * `options.database`, e.g. a PostgreSQL URL several instances share): with `npm start` when
 * `options.npm`, else its program directly (`scriptArgs('start')`). The test's teardown stops
 * the whole process group (npm, tsx, node). `options.env` adds environment variables (CIMD_ENABLED, …).
 */
export async function startExampleApp (t: TestLike, options: { database?: string, npm?: boolean, env?: NodeJS.ProcessEnv } = {}): Promise<ExampleServer> {
  const port = await freePort()
  const database = options.database ?? join(t.testdir(), 'db.sqlite3')
  const env = { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: database, ...options.env }
  const server = await startServer(env, options.npm === true)
  t.teardown(async () => {
    if (server.pid === undefined || server.exitCode !== null) return
    const exited = once(server, 'exit')
    process.kill(-server.pid, 'SIGTERM')
    await exited
  })
  return { base: `http://127.0.0.1:${port}`, database, env }
}

/**
 * A browser's cookie handling, reduced to what the example app needs: one origin, cookies
 * stored by name, sent on every request, dropped when the server expires them.
 */
export class CookieJar {
  readonly #cookies = new Map<string, string>()

  store (response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';')
      const eq = pair.indexOf('=')
      if (eq <= 0) continue
      const name = pair.slice(0, eq).trim()
      const expired = attributes.some((a) => /^\s*max-age\s*=\s*(0|-\d+)\s*$/i.test(a)) ||
        attributes.some((a) => /^\s*expires\s*=/i.test(a) && Date.parse(a.split('=')[1] ?? '') < Date.now())
      if (expired) this.#cookies.delete(name)
      else this.#cookies.set(name, pair.slice(eq + 1).trim())
    }
  }

  get (name: string): string | undefined {
    return this.#cookies.get(name)
  }

  header (): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }
}

/** A browser that never follows redirects by itself, so each hop can be checked. */
export class Browser {
  readonly jar = new CookieJar()
  readonly #base: string

  constructor (base: string) {
    this.#base = base
  }

  async get (url: string): Promise<Response> {
    return await this.#send(url, { method: 'GET' })
  }

  /** Submits a form the way a browser does: urlencoded fields. */
  async submit (url: string, fields: Record<string, string>): Promise<Response> {
    return await this.#send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    })
  }

  async #send (url: string, init: RequestInit): Promise<Response> {
    const cookie = this.jar.header()
    const headers = new Headers(init.headers)
    if (cookie !== '') headers.set('cookie', cookie)
    const response = await fetch(new URL(url, this.#base), { ...init, headers, redirect: 'manual' })
    this.jar.store(response)
    return response
  }
}

/** An HTML form: where it posts and its hidden inputs (the fields a user never sees). */
export interface HtmlForm {
  action: string
  hidden: Record<string, string>
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

function decodeEntities (text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (match, entity: string) => {
    if (entity[0] === '#') {
      const code = entity[1] === 'x' || entity[1] === 'X' ? Number.parseInt(entity.slice(2), 16) : Number(entity.slice(1))
      return String.fromCodePoint(code)
    }
    return ENTITIES[entity.toLowerCase()] ?? match
  })
}

function attributes (tag: string): Record<string, string> {
  const found: Record<string, string> = {}
  for (const [, name = '', value = ''] of tag.matchAll(/([\w-]+)\s*=\s*"([^"]*)"/g)) found[name.toLowerCase()] = decodeEntities(value)
  return found
}

/** The first `<form method="post">` of a page whose action matches, with its hidden inputs. */
export function parseForm (page: string, action?: RegExp): HtmlForm {
  for (const [, open = '', inner = ''] of page.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const form = attributes(open)
    if (form.method?.toLowerCase() !== 'post') continue
    if (action !== undefined && !action.test(form.action ?? '')) continue
    const hidden: Record<string, string> = {}
    for (const [input] of inner.matchAll(/<input\b[^>]*>/gi)) {
      const attrs = attributes(input)
      if (attrs.type === 'hidden' && attrs.name !== undefined) hidden[attrs.name] = attrs.value ?? ''
    }
    return { action: form.action ?? '', hidden }
  }
  throw new Error(`no matching POST form in the page:\n${page}`)
}
