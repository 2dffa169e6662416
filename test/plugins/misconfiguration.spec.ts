// A newcomer's configuration mistakes fail at registration with one clear line, never later as
// a request that misbehaves: misspelt options, a plugin registered twice, protect() with an
// undeclared scope, a view class that would answer nothing, a database URL with an unknown
// scheme, and SQLite files that cannot be used.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import Fastify, { type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import {
  fastifyOAuthToolkit,
  ImproperlyConfiguredError,
  oauthRoutes,
  ProtectedResourceView,
} from '../../index.js'
import { resourceServer } from '../../entries/resource-server.js'
import { openStore } from '../../entries/store.js'
import { createSqliteStore } from '../../entries/sqlite.js'
import { testHasher } from '../helpers/index.js'

/** A Fastify app with the core plugin on a fresh SQLite file; closed with the test. */
async function coreApp (t: Test, extra: Record<string, unknown> = {}): Promise<FastifyInstance> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyOAuthToolkit, { database: join(t.testdir(), 'oauth.db'), migrate: true, hasher: testHasher, ...extra })
  return app
}

/** `ready()` must reject with an ImproperlyConfiguredError whose one-line message matches. */
async function failsWith (t: Test, app: FastifyInstance, message: RegExp): Promise<void> {
  const err = await app.ready().then(() => null, (e: unknown) => e)
  t.type(err, ImproperlyConfiguredError)
  t.match((err as Error).message, message)
  t.notMatch((err as Error).message, /\n/, 'one line')
}

t.test('a misspelt option of any plugin fails registration, naming it and the closest known one', async (t) => {
  const misspelt = Fastify()
  t.teardown(() => misspelt.close())
  misspelt.register(fastifyOAuthToolkit, { database: ':memory:', migrate: true, logingUrl: '/login/' } as never)
  await failsWith(t, misspelt, /fastifyOAuthToolkit has no option "logingUrl" \(did you mean "loginUrl"\?\)/)

  const routes = await coreApp(t)
  routes.register(oauthRoutes, { prefix: '/o', managmentPages: true } as never)
  await failsWith(t, routes, /oauthRoutes has no option "managmentPages" \(did you mean "managementPages"\?\)/)

  const remote = Fastify()
  t.teardown(() => remote.close())
  remote.register(resourceServer, { introspection: { url: 'https://as.example/o/introspect/', credentials: { clientId: 'rs', clientSecret: 's' } }, onUnavailble: 'deny' } as never)
  await failsWith(t, remote, /resourceServer has no option "onUnavailble" \(did you mean "onUnavailable"\?\)/)

  const nothingClose = Fastify()
  t.teardown(() => nothingClose.close())
  nothingClose.register(fastifyOAuthToolkit, { database: ':memory:', migrate: true, colour: 'blue' } as never)
  await failsWith(t, nothingClose, /has no option "colour"; it knows database, store/)

  const prefixed = await coreApp(t)
  await prefixed.register(oauthRoutes, { prefix: '/o', logLevel: 'warn' })
  await prefixed.ready()
  t.pass('Fastify\'s own register options (prefix, logLevel) are accepted')
})

t.test('the core plugin registered twice, or beside resourceServer, fails with a sentence instead of Fastify\'s decorator error', async (t) => {
  const twice = await coreApp(t)
  twice.register(fastifyOAuthToolkit, { database: ':memory:', migrate: true })
  await failsWith(t, twice, /fastifyOAuthToolkit is registered twice/)

  const remoteFirst = Fastify()
  t.teardown(() => remoteFirst.close())
  await remoteFirst.register(resourceServer, { introspection: { url: 'https://as.example/o/introspect/', credentials: { clientId: 'rs', clientSecret: 's' } } })
  remoteFirst.register(fastifyOAuthToolkit, { database: ':memory:', migrate: true })
  await failsWith(t, remoteFirst, /registered twice on this instance \(or alongside resourceServer\)/)
})

t.test('protect() checks its options when the route is defined', async (t) => {
  const app = await coreApp(t)
  const defining = (options: unknown): unknown => {
    try {
      app.oauth.protect(options as never)
      return null
    } catch (err) {
      return err
    }
  }
  const cases: Array<[unknown, RegExp]> = [
    [{ scopes: ['nope'] }, /protect\(\): scope "nope" not declared in settings\.scopes \(read, write\)/],
    [{ scopes: ['read', 'admin', 'root'] }, /scopes "admin", "root" not declared/],
    [{ scopes: 'read' }, /scopes must be a list of scope names; got "read" \(a string\)/],
    [{ readWrite: 'yes' }, /readWrite must be true or false; got "yes" \(a string\)/],
    [{ bearerChallenge: 1 }, /bearerChallenge must be true or false; got 1 \(a number\)/],
    [{ scope: ['read'] }, /protect\(\) has no option "scope" \(did you mean "scopes"\?\)/],
    [['read'], /options must be an object; got \["read"\] \(a list\)/],
  ]
  for (const [options, message] of cases) {
    const err = defining(options)
    t.type(err, ImproperlyConfiguredError, JSON.stringify(options))
    t.match((err as Error | null)?.message, message)
  }
  t.equal(defining({ scopes: ['read'], readWrite: true, bearerChallenge: false }), null, 'declared scopes and booleans are fine')
  t.equal(defining(undefined), null, 'no options at all is fine')
})

t.test('a view class that would only ever answer 405 fails registration', async (t) => {
  class Empty extends ProtectedResourceView {}
  const empty = await coreApp(t)
  empty.register(Empty.asView('/api/empty'))
  await failsWith(t, empty, /Empty has no handler method; define at least one of get, post, put, patch, delete/)

  class WrongCase extends ProtectedResourceView {
    async Get (): Promise<string> { return 'never called' }
  }
  const wrongCase = await coreApp(t)
  wrongCase.register(WrongCase.asView('/api/wrong'))
  await failsWith(t, wrongCase, /WrongCase has a method "Get"; handlers are named in lower case \("get"\)/)

  class Shouting extends ProtectedResourceView {
    async get (): Promise<string> { return 'fine' }
    async POST (): Promise<string> { return 'never called' }
  }
  const shouting = await coreApp(t)
  shouting.register(Shouting.asView('/api/shouting'))
  await failsWith(t, shouting, /Shouting has a method "POST"; handlers are named in lower case \("post"\)/)
})

t.test('a database URL with an unknown scheme is an error naming the schemes understood, and creates no file', async (t) => {
  const dir = t.testdir()
  const cwd = process.cwd()
  process.chdir(dir)
  t.teardown(() => { process.chdir(cwd) })
  for (const url of ['postgress://localhost/oauth', 'mysql://root@localhost/oauth', 'sqlit:oauth.db', 'https://example.com/db']) {
    const err = await openStore(url, { migrate: true }).then(async (store) => { await store.close(); return null }, (e: unknown) => e)
    t.type(err, ImproperlyConfiguredError, url)
    t.match((err as Error).message, /unknown database URL scheme ".+:"; use postgres:\/\/ or postgresql:\/\/ for PostgreSQL, and sqlite:, file: or a plain path for SQLite/)
  }
  const { readdirSync } = await import('node:fs')
  t.same(readdirSync(dir), [], 'nothing was created in the working directory')
  for (const url of ['sqlite:named.db', 'file:other.db', 'plain.db', './with:colon.db', ':memory:']) {
    const store = await openStore(url, { migrate: true })
    await store.close()
    t.pass(`${url} opens SQLite`)
  }
})

t.test('SQLite files that cannot be used say why', async (t) => {
  const dir = t.testdir()
  const notADatabase = join(dir, 'notes.txt')
  writeFileSync(notADatabase, 'These are my notes, not a database. '.repeat(20))
  t.throws(() => createSqliteStore({ database: notADatabase, migrate: true }), { constructor: ImproperlyConfiguredError, message: /notes\.txt": the file is not a SQLite database/ })
  t.throws(() => createSqliteStore({ database: join(dir, 'missing', 'folder', 'oauth.db'), migrate: true }), { message: /its folder does not exist/ })
  mkdirSync(join(dir, 'a-folder.db'))
  t.throws(() => createSqliteStore({ database: join(dir, 'a-folder.db'), migrate: true }), { message: /cannot open the file/ })
  // A connection the host opened read-only: the first write (WAL mode) fails, and says so.
  const file = join(dir, 'existing.db')
  new Database(file).close()
  const readonly = new Database(file, { readonly: true })
  t.teardown(() => { readonly.close() })
  t.throws(() => createSqliteStore({ database: readonly, migrate: true }), { message: /read-only: this process may not write/ })
  // File permissions: root writes whatever the mode says, so only an unprivileged user sees them.
  if (process.getuid?.() !== 0) {
    const locked = join(dir, 'locked')
    mkdirSync(locked)
    const inLocked = join(locked, 'oauth.db')
    new Database(inLocked).close()
    chmodSync(inLocked, 0o444)
    t.throws(() => createSqliteStore({ database: inLocked, migrate: true }), { message: /read-only: this process may not write|permission denied: this process may not write the file/ })
    chmodSync(locked, 0o555)
    t.teardown(() => { chmodSync(locked, 0o755) })
    t.throws(() => createSqliteStore({ database: inLocked, migrate: true }), { message: /read-only|permission denied/ })
  }
})

t.test('a setting of the wrong type shows the value with its type', async (t) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ accessTokenExpireSeconds: '3600' }, /accessTokenExpireSeconds must be a positive integer; got "3600" \(a string\)/],
    [{ accessTokenExpireSeconds: -1 }, /accessTokenExpireSeconds must be a positive integer; got -1 \(a number\)/],
    [{ pkceRequired: 'false' }, /pkceRequired must be a boolean; got "false" \(a string\)/],
    [{ refreshTokenGracePeriodSeconds: null }, /refreshTokenGracePeriodSeconds must be a non-negative number; got null/],
    [{ defaultScopes: 'read' }, /defaultScopes must be an array of strings; got "read" \(a string\)/],
  ]
  for (const [settings, message] of cases) {
    const app = Fastify()
    t.teardown(() => app.close())
    app.register(fastifyOAuthToolkit, { database: ':memory:', migrate: true, settings: settings as never })
    await failsWith(t, app, message)
  }
})
