// Group commit of the SQLite store (lib/store/sqlite/group-commit.ts): the transactions requested
// in one event-loop turn share one BEGIN IMMEDIATE … COMMIT, each in its own savepoint. Every
// job stays all-or-nothing and none resolves before the COMMIT that stores it.
import { join } from 'node:path'
import Database from 'better-sqlite3'
import t, { type Test } from 'tap'
import { createGroupCommit, type GroupCommitOptions } from '../../lib/store/sqlite/group-commit.js'
import { openSqlite } from '../../lib/store/sqlite/open.js'
import { createSqliteStore } from '../../lib/store/sqlite/store.js'
import { tokenChecksum } from '../../lib/tokens/checksum.js'
import { issueOf, newApplication, newGrant } from './contract.js'

interface Counted { db: Database.Database, runs: Map<string, number>, failOnce: Set<string> }

/** A WAL connection whose statements count their runs by SQL text; a text in `failOnce` throws on its next run. */
function countedDatabase (t: Test, name: string): Counted {
  const db = openSqlite(join(t.testdir(), name))
  t.teardown(() => { if (db.open) db.close() })
  const runs = new Map<string, number>()
  const failOnce = new Set<string>()
  const prepare = db.prepare.bind(db)
  db.prepare = ((source: string) => {
    const statement = prepare(source)
    const run = statement.run.bind(statement) as (...args: unknown[]) => Database.RunResult
    Object.defineProperty(statement, 'run', {
      value: (...args: unknown[]) => {
        runs.set(source, (runs.get(source) ?? 0) + 1)
        if (failOnce.delete(source)) throw new Error(`injected failure of ${source}`)
        return run(...args)
      },
    })
    return statement
  }) as typeof db.prepare
  return { db, runs, failOnce }
}

function table (db: Database.Database): void {
  db.exec('CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)')
}

const names = (db: Database.Database): unknown[] => db.prepare('SELECT name FROM item ORDER BY name').pluck().all()

/** A counted database with the `item` table, group commit over it, and a counted insert into `item`. */
function itemGroup (t: Test, name: string, options: GroupCommitOptions = { onRemoved: () => {} }) {
  const counted = countedDatabase(t, name)
  table(counted.db)
  const group = createGroupCommit(counted.db, options)
  const insert = counted.db.prepare('INSERT INTO item (name) VALUES (?)')
  return { ...counted, group, insert }
}

t.test('work queued in one turn shares one transaction; a job that throws is rolled back alone', async (t) => {
  const removedReports: string[][] = []
  const { db, runs, group, insert } = itemGroup(t, 'shared.db', { onRemoved: (removed) => { removedReports.push([...removed]) } })
  const jobs = ['a', 'b', 'a', 'c'].map(async (name, i) => await group((removed) => {
    removed.push(`job-${i}`)
    insert.run(`${name}-first`)
    insert.run(name) // the second 'a' violates UNIQUE after its first insert
    return i
  }))
  const outcomes = await Promise.allSettled(jobs)
  t.same(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'])
  t.match((outcomes[2] as PromiseRejectedResult).reason, { code: 'SQLITE_CONSTRAINT_UNIQUE' })
  t.same(outcomes.filter((o) => o.status === 'fulfilled').map((o) => o.value), [0, 1, 3])
  t.same(names(db), ['a', 'a-first', 'b', 'b-first', 'c', 'c-first'], 'the failed job wrote nothing, the others everything')
  t.equal(runs.get('BEGIN IMMEDIATE'), 1, 'one transaction')
  t.equal(runs.get('COMMIT'), 1)
  t.same(removedReports, [['job-0'], ['job-1'], ['job-2'], ['job-3']], 'every job\'s removals are reported, the failed one\'s too')
  t.notOk(db.inTransaction)
})

t.test('nothing resolves before its COMMIT: a failed COMMIT rejects every job of the group and stores none', async (t) => {
  const { db, failOnce, group, insert } = itemGroup(t, 'commit.db')
  failOnce.add('COMMIT')
  const outcomes = await Promise.allSettled(['x', 'y'].map(async (name) => await group(() => insert.run(name))))
  t.same(outcomes.map((o) => o.status), ['rejected', 'rejected'])
  t.match((outcomes[0] as PromiseRejectedResult).reason, /injected failure of COMMIT/)
  t.same(names(db), [], 'rolled back')
  t.notOk(db.inTransaction)
  t.equal(await group(() => insert.run('z').changes), 1, 'the connection is usable afterwards')
  t.same(names(db), ['z'])
})

t.test('when SQLite drops the whole transaction, the group fails as a whole and stores nothing', async (t) => {
  const { db, group, insert } = itemGroup(t, 'lost.db')
  const outcomes = await Promise.allSettled([
    group(() => insert.run('before')),
    group(() => {
      // What SQLite does after SQLITE_FULL or an I/O error: the transaction is gone.
      db.exec('ROLLBACK')
      throw new Error('disk full')
    }),
    group(() => insert.run('after')),
  ])
  t.same(outcomes.map((o) => o.status), ['rejected', 'rejected', 'rejected'])
  t.match((outcomes[1] as PromiseRejectedResult).reason, /disk full/)
  t.match((outcomes[0] as PromiseRejectedResult).reason, /disk full/, 'the job that ran before is not acknowledged')
  t.same(names(db), [], 'nothing of the group was stored, and nothing ran outside a transaction')
  t.notOk(db.inTransaction)
})

t.test('a group holds at most maxJobs jobs; the rest go in the next transaction', async (t) => {
  const { db, runs, group, insert } = itemGroup(t, 'max.db', { onRemoved: () => {}, maxJobs: 3 })
  await Promise.all(['1', '2', '3', '4', '5', '6', '7'].map(async (name) => await group(() => insert.run(name))))
  t.equal(runs.get('BEGIN IMMEDIATE'), 3)
  t.equal(names(db).length, 7)
})

t.test('work queued while another connection holds the write lock waits for it, then commits', async (t) => {
  const file = join(t.testdir(), 'busy.db')
  const db = openSqlite(file)
  const other = openSqlite(file)
  t.teardown(() => { db.close(); other.close() })
  table(db)
  const group = createGroupCommit(db, { onRemoved: () => {} })
  other.exec('BEGIN IMMEDIATE')
  let resolved = false
  const pending = group(() => db.prepare('INSERT INTO item (name) VALUES (?)').run('waited')).then(() => { resolved = true })
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.notOk(resolved, 'still waiting while the other connection holds the lock')
  other.exec('COMMIT')
  await pending
  t.same(names(db), ['waited'])
})

t.test('the store: concurrent issuances share a transaction, and racing redemptions of one code still give one winner', async (t) => {
  const { db, runs } = countedDatabase(t, 'store.db')
  const store = createSqliteStore({ database: db, migrate: true })
  t.teardown(async () => { await store.close() })
  const app = await newApplication(store, { clientId: 'grouped' })
  const before = runs.get('BEGIN IMMEDIATE') ?? 0
  const rows = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(async (i) => await store.issueTokens(issueOf({ applicationId: app.id, token: `g-${i}` }))))
  t.equal(new Set(rows.map((r) => r.accessToken.id)).size, 8, 'eight tokens')
  t.equal((runs.get('BEGIN IMMEDIATE') ?? 0) - before, 1, 'in one transaction')

  const grant = await store.createGrant(newGrant(app.id, 'raced-code'), new Date())
  const results = await Promise.all([0, 1, 2, 3].map(async (i) => await store.redeemGrant(grant.id, issueOf({ applicationId: app.id, token: `raced-${i}`, refresh: `raced-r-${i}`, grantId: grant.id }))))
  t.equal(results.filter((r) => r.ok).length, 1, 'exactly one redemption wins')
  const stored = [0, 1, 2, 3].filter((i) => db.prepare('SELECT 1 FROM oauth2_accesstoken WHERE token_checksum = ?').get(tokenChecksum(`raced-${i}`)) !== undefined)
  t.equal(stored.length, 1, 'and only the winner\'s tokens exist')
})

t.test('a removal report that throws rejects its own job only; the others still settle', async (t) => {
  const { group, insert } = itemGroup(t, 'report.db', { onRemoved: (removed) => { if (removed.includes('boom')) throw new Error('listener failed') } })
  const outcomes = await Promise.allSettled([
    group((removed) => { removed.push('boom'); return insert.run('p').changes }),
    group(() => insert.run('q').changes),
  ])
  t.same(outcomes.map((o) => o.status), ['rejected', 'fulfilled'])
  t.match((outcomes[0] as PromiseRejectedResult).reason, /listener failed/)
})

t.test('on a connection the host holds in a transaction, jobs run in savepoints of it and the host commits', async (t) => {
  const { db, runs, group, insert } = itemGroup(t, 'host.db')
  db.exec('BEGIN')
  const outcomes = await Promise.allSettled(['h1', 'h1', 'h2'].map(async (name) => await group(() => insert.run(name))))
  t.same(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled'], 'the duplicate fails alone')
  t.ok(db.inTransaction, 'the host\'s transaction is still open')
  t.equal(runs.get('BEGIN IMMEDIATE') ?? 0, 0)
  db.exec('ROLLBACK')
  t.same(names(db), [], 'the host decided: rolled back')
})

t.test('beforeCommit runs inside each transaction it opens, after the jobs; what it returns runs after COMMIT, never after a failed one nor in a host\'s transaction', async (t) => {
  const seen: string[] = []
  const { db, failOnce, group, insert } = itemGroup(t, 'hook.db', {
    onRemoved: () => {},
    beforeCommit: () => {
      seen.push(`before: in transaction ${String(db.inTransaction)}, rows ${(names(db) as string[]).join(',')}`)
      return () => { seen.push(`committed: in transaction ${String(db.inTransaction)}`) }
    },
  })
  await Promise.all(['a', 'b'].map(async (name) => await group(() => insert.run(name))))
  t.same(seen, ['before: in transaction true, rows a,b', 'committed: in transaction false'], 'once per transaction')

  seen.length = 0
  failOnce.add('COMMIT')
  await t.rejects(group(() => insert.run('c')))
  t.same(seen, ['before: in transaction true, rows a,b,c'], 'a failed COMMIT: the returned function does not run')

  seen.length = 0
  db.exec('BEGIN')
  await group(() => insert.run('d'))
  db.exec('COMMIT')
  t.same(seen, [], 'in the host\'s transaction: not called')
})
