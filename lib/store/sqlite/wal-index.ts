import { closeSync, openSync, readSync } from 'node:fs'

// A cheap pre-check in front of `PRAGMA data_version`. The pragma starts a read
// transaction: a shared lock and its release on the `-shm` file (two fcntl) and an fstat of the
// database, three system calls, run at most once per event-loop iteration (and per the store's
// `crossProcessCheckMs`). Reading the first 48 bytes of the `-shm` file is one pread.
//
// Those bytes are the first copy of the WAL-index header (https://www.sqlite.org/walformat.html,
// "The WAL-Index Header"). Every commit rewrites it (its change counter and last frame number
// move, and a WAL restart changes its salts), and writes it last, after the second copy: readers
// accept a header only once the two copies agree, so a commit is not visible to anyone before
// this copy holds it. Unchanged bytes therefore mean that no connection has committed since the
// last look. Changed bytes (a commit, a checkpoint restart, or a read torn by a write in
// progress) only send the caller to `PRAGMA data_version`, which stays the authority.

const HEADER_BYTES = 48

/** SQLite writes the WAL index in the host's byte order. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** Watches a WAL database's `-shm` header; see the comment above. */
export interface WalIndexWatcher {
  /** False only when the header is the same as at the previous call (nothing committed since). */
  changed (): boolean
  /**
   * The WAL's last committed frame (`mxFrame`, bytes 16–19 of the header, in the host's byte
   * order); 0 if unreadable. Unchecked against the header's second copy: a read torn by a commit
   * can be off once, which suits its one use (when to start the checkpointer).
   */
  lastFrame (): number
  close (): void
}

/**
 * The watcher of a WAL database's index, or `null` when there is none to watch (an in-memory
 * database, another journal mode, a `-shm` file that cannot be opened): then every check is
 * `PRAGMA data_version`. `databaseFile` is the absolute path SQLite itself opened (`PRAGMA
 * database_list`), not the name the host gave, which a `chdir` since would make another file.
 * Open it after the connection has read in WAL mode (the `-shm` file exists then).
 */
export function watchWalIndex (databaseFile: string, journalMode: string): WalIndexWatcher | null {
  if (databaseFile === '' || journalMode.toLowerCase() !== 'wal') return null
  let fd: number | null
  try {
    fd = openSync(`${databaseFile}-shm`, 'r')
  } catch {
    return null
  }
  const frame = Buffer.alloc(4)
  let previous = Buffer.alloc(HEADER_BYTES)
  let current = Buffer.alloc(HEADER_BYTES)
  let seen = false
  return {
    changed () {
      if (fd === null) return true
      let read: number
      try {
        read = readSync(fd, current, 0, HEADER_BYTES, 0)
      } catch {
        return true
      }
      if (read !== HEADER_BYTES) return true
      const same = seen && current.equals(previous)
      seen = true;
      [previous, current] = [current, previous]
      return !same
    },
    lastFrame () {
      if (fd === null) return 0
      try {
        if (readSync(fd, frame, 0, 4, 16) !== 4) return 0
      } catch {
        return 0
      }
      return LITTLE_ENDIAN ? frame.readUInt32LE(0) : frame.readUInt32BE(0)
    },
    close () {
      if (fd !== null) closeSync(fd)
      fd = null
    },
  }
}
