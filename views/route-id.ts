import type { FastifyRequest } from 'fastify'

/**
 * A database id written the one way these pages write it: a positive decimal without sign, leading
 * zero, exponent, fraction, hex prefix or spaces, that fits a safe integer; else `null`. `Number()`
 * would also take `0x1`, `1e0`, `01`, `+1`, `1.0` and ` 1`, so one row would answer at many URLs,
 * which a proxy, cache or audit rule matching the canonical URL would not recognise.
 */
export function positiveId (text: string): number | null {
  if (!/^[1-9][0-9]{0,15}$/.test(text)) return null
  const id = Number(text)
  return Number.isSafeInteger(id) ? id : null
}

/** The route's `:id` as {@link positiveId} reads it (`null`: the page answers as for an unknown id). */
export function routeId (request: FastifyRequest): number | null {
  const raw = (request.params as { id?: unknown }).id
  return typeof raw === 'string' ? positiveId(raw) : null
}
