// Waiting for a condition instead of for a time: on a shared machine under load, a fixed number of
// short sleeps can end before a listener connects or a NOTIFY arrives. The bound is generous
// (seconds) because it is only reached when the condition never holds, which the assertion after
// it then reports.

/** Polls `check` every 10 ms until it holds or `seconds` pass; resolves to whether it held. */
export async function eventually (check: () => boolean | Promise<boolean>, seconds = 30): Promise<boolean> {
  const end = Date.now() + seconds * 1000
  for (;;) {
    if (await check()) return true
    if (Date.now() > end) return false
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** `eventually`, rejecting with `timed out waiting for <what>` when `check` never holds. */
export async function until (check: () => boolean | Promise<boolean>, what: string, seconds = 30): Promise<void> {
  if (!await eventually(check, seconds)) throw new Error(`timed out waiting for ${what}`)
}
