import type { ServerContext, ToolkitEventMap } from './context.js'

/**
 * Emits a toolkit event without letting a listener break the operation that caused it: a
 * listener's throw or rejection goes to the `error` event (the plugin logs it), never to the
 * caller. Logout and delivery events are reported after the fact; a broken audit hook must not
 * fail a user's logout or stop the delivery worker.
 */
export function notify<K extends Exclude<keyof ToolkitEventMap, 'error'>> (ctx: ServerContext, name: K, ...args: ToolkitEventMap[K]): void {
  const report = (err: unknown): void => {
    try {
      if (ctx.events.listenerCount('error') > 0) ctx.events.emit('error', err)
    } catch {
      // An `error` listener that throws has nowhere left to report to.
    }
  }
  // rawListeners, so that once() wrappers still remove themselves.
  for (const listener of ctx.events.rawListeners(name)) {
    try {
      const result: unknown = (listener as (...a: unknown[]) => unknown).apply(ctx.events, args)
      if (result instanceof Promise) result.catch(report)
    } catch (err) {
      report(err)
    }
  }
}
