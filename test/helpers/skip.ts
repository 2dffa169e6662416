import type { Test } from 'tap'

/**
 * Marks tests that cannot run here (a service is missing) as skipped, with the reason, without
 * ending `t`: the other tests of the file, or of the bundle it runs in, go on.
 */
export function skipWithReason (t: Test, reason: string): void {
  t.test(reason, { skip: reason }, () => {})
}
