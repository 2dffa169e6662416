// The in-process spec files of test/store, in two test processes that run side by side (see
// test/helpers/specs.ts): the PostgreSQL store (specs-pg.test.ts, the longer: it waits on the
// server) and the SQLite machinery (specs.test.ts).
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './pg-store.spec.ts',
])
