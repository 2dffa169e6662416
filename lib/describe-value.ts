// Configuration errors show the value they refuse with its type, so that `"3600"` read from an
// environment variable is told apart from the number 3600 at a glance.
/** A value as an error message shows it, its type visible: `"3600" (a string)`, `3600 (a number)`, `null`. */
export function describeValue (value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (Array.isArray(value)) return `${JSON.stringify(value)?.slice(0, 80) ?? '[…]'} (a list)`
  switch (typeof value) {
    case 'string': return `${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)} (a string)`
    case 'number': case 'bigint': case 'boolean': return `${String(value)} (a ${typeof value})`
    case 'function': return 'a function'
    default: return 'an object'
  }
}
