// How the suite's child processes (the CLI, the example app, bench/server.ts) load TypeScript:
// with the test processes' own loader (test/loader/register.mjs, see there why not tsx).
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

/** The node arguments that make a child process load `.ts` files as the test processes do. */
export const TS_LOADER_ARGS: readonly string[] = ['--import', pathToFileURL(join(import.meta.dirname, '..', 'loader', 'register.mjs')).href]
