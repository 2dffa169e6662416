/** A source of the current time, injected so that expiry logic can be tested without waiting. */
export interface Clock {
  /** The current time. */
  now(): Date
}

/** The real wall clock. */
export const systemClock: Clock = Object.freeze({
  now: () => new Date(),
})

/** Epoch milliseconds of `clock`'s current time (the system clock's without a `Date`: the verification hot path). */
export function nowMs (clock: Clock): number {
  return clock === systemClock ? Date.now() : clock.now().getTime()
}

/** Whole seconds between `later` and `earlier`, rounded down (wire fields such as `expires_in`). */
export function secondsBetween (earlier: Date, later: Date): number {
  return Math.floor((later.getTime() - earlier.getTime()) / 1000)
}

/** Epoch seconds of a date (wire fields such as `exp` and `iat`). */
export function toEpochSeconds (date: Date): number {
  return Math.floor(date.getTime() / 1000)
}

/** `date` moved forward by `seconds`. */
export function addSeconds (date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000)
}
