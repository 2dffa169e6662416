// The WAL-index pre-check in front of `PRAGMA data_version` (lib/store/sqlite/wal-index.ts):
// it may say "unchanged" only when no connection committed, and it steps aside when it cannot see.
import { join } from 'node:path'
import Database from 'better-sqlite3'
import t from 'tap'
import { watchWalIndex } from '../../lib/store/sqlite/wal-index.js'

function walDatabase (path: string): Database.Database {
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.exec('CREATE TABLE IF NOT EXISTS item (id INTEGER PRIMARY KEY, value TEXT)')
  return db
}

const mainFile = (db: Database.Database): string => (db.pragma('database_list') as Array<{ name: string, file: string }>)[0]?.file ?? ''
const journalMode = (db: Database.Database): string => String(db.pragma('journal_mode', { simple: true }))

t.test('another connection\'s commit shows, and nothing else does', async (t) => {
  const path = join(t.testdir(), 'wal.db')
  const reader = walDatabase(path)
  const writer = new Database(path)
  t.teardown(() => { reader.close(); writer.close() })
  reader.prepare('SELECT count(*) FROM item').get()
  const watcher = watchWalIndex(mainFile(reader), journalMode(reader))
  if (watcher === null) throw new Error('a WAL database on disk has an index to watch')
  t.teardown(() => { watcher.close() })

  t.equal(watcher.changed(), true, 'the first look has nothing to compare with')
  t.equal(watcher.changed(), false, 'no commit since')
  reader.prepare('SELECT count(*) FROM item').get()
  t.equal(watcher.changed(), false, 'reads change nothing')

  for (let i = 0; i < 20; i++) {
    writer.prepare('INSERT INTO item (value) VALUES (?)').run(`v${i}`)
    t.equal(watcher.changed(), true, `commit ${i} by another connection`)
    t.equal(watcher.changed(), false)
  }
  writer.prepare('UPDATE item SET value = ? WHERE id = 1').run('same size')
  t.equal(watcher.changed(), true, 'an update that leaves every size alone')

  // A full checkpoint, then a commit that restarts the WAL from its first frame.
  writer.pragma('wal_checkpoint(TRUNCATE)')
  watcher.changed()
  writer.prepare('INSERT INTO item (value) VALUES (?)').run('after restart')
  t.equal(watcher.changed(), true, 'a commit into a restarted WAL')
  t.equal(reader.prepare('SELECT value FROM item ORDER BY id DESC LIMIT 1').pluck().get(), 'after restart')
})

t.test('no index to watch: in memory, another journal mode, a closed watcher', async (t) => {
  const memory = new Database(':memory:')
  t.teardown(() => { memory.close() })
  t.equal(watchWalIndex(mainFile(memory), journalMode(memory)), null, 'in-memory database')

  const dir = t.testdir()
  const path = join(dir, 'rollback.db')
  const rollback = new Database(path)
  t.teardown(() => { rollback.close() })
  rollback.pragma('journal_mode = DELETE')
  t.equal(watchWalIndex(mainFile(rollback), journalMode(rollback)), null, 'rollback journal')

  t.equal(watchWalIndex('/nonexistent/dir/db.sqlite3', 'wal'), null, 'no -shm file')

  const other = join(dir, 'wal.db')
  const wal = walDatabase(other)
  t.teardown(() => { wal.close() })
  const watcher = watchWalIndex(mainFile(wal), journalMode(wal))
  watcher?.changed()
  watcher?.close()
  t.equal(watcher?.changed(), true, 'a closed watcher sends every check to the pragma')
})
