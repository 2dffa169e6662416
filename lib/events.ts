import type { EventEmitter } from 'node:events'
import type { ToolkitEventMap } from './context.js'

/** The toolkit's notifications: every event but `error`, which is where their listeners' failures go. */
export type NotificationName = Exclude<keyof ToolkitEventMap, 'error'>

/**
 * Emits a notification after the change it reports is done (a token stored, a staff action
 * applied), so a listener that throws or rejects must not turn the response into a 500 (or an
 * unhandled rejection), nor skip the listeners after it: its error goes to the emitter's `error`
 * event, which the plugin logs. With no `error` listener the failure is dropped, never re-thrown.
 */
export function notifyListeners<K extends NotificationName> (events: EventEmitter<ToolkitEventMap>, name: K, ...args: ToolkitEventMap[K]): void {
  const report = (err: unknown): void => {
    try {
      if (events.listenerCount('error') > 0) events.emit('error', err)
    } catch {
      // An `error` listener that throws has nowhere left to report to.
    }
  }
  // rawListeners, so that once() wrappers still remove themselves.
  for (const listener of events.rawListeners(name) as Array<(...a: unknown[]) => unknown>) {
    try {
      const result: unknown = listener.apply(events, args)
      if (result instanceof Promise) result.catch(report)
    } catch (err) {
      report(err)
    }
  }
}
