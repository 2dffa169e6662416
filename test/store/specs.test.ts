// The in-process spec files of test/store, in one test process (see test/helpers/specs.ts).
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './migration-self-registered.spec.ts',
  './sqlite-checkpointer.spec.ts',
  './sqlite-group-commit.spec.ts',
  './sqlite-store.spec.ts',
  './sqlite-wal-index.spec.ts',
  './pg-store.spec.ts',
])
