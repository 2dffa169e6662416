// Paths of the baseline routes bench/server.ts adds next to the example app's, and shared tuning.
import type { ExampleAppOptions } from '../example-app/app.js'

export { BARE_HELLO_PATH, FORM_ECHO_PATH } from './paths.js'

/**
 * Scenario 5's SQLite tuning (the plugin's `sqlite.mmapSize`): the small and the large servers
 * and the in-process comparison map up to 1 GiB of their file (the 1M-token fixture is ~250 MB),
 * so a lookup reads no page through `pread` (bench/README.md, "What would close the gaps").
 */
export const TABLE_MMAP_SIZE = 1 << 30

/** The example app's SQLite tuning options a bench server takes (`server.ts app <database> <settings> <tuning JSON>`). */
export type ServerTuning = Pick<ExampleAppOptions, 'sqlite'>
