// Type-level checks of the RFC 9728 / RFC 8707 surface. Compiled by `tsc --noEmit -p .`; never run.
import type { FastifyInstance } from 'fastify'
import { ProtectedResourceView, type ProtectedResourceSettings, type SettingsInput } from 'fastify-oauth-toolkit'

/** A view declares its resource as an attribute (it needs `override`, like DOT's class attributes). */
export class McpView extends ProtectedResourceView {
  override resource = 'https://api.example.com/mcp'
  override bearerChallenge = true
  async post () { return 'ok' }
}

/** Declared resources are plain data in the settings. */
export const mcp: ProtectedResourceSettings = { resource: 'https://api.example.com/mcp', scopesSupported: ['read'], bearerMethodsSupported: ['header'] }
export const settings: SettingsInput = { protectedResources: [mcp], resourceIndicatorPolicy: 'declared', acceptTokensWithoutResource: false }

// @ts-expect-error: bodies never carry tokens here, so `body` is no bearer method the toolkit offers.
export const body: ProtectedResourceSettings = { resource: 'https://api.example.com/', bearerMethodsSupported: ['body'] }

// @ts-expect-error: the policy is 'declared' or 'any'.
export const policy: SettingsInput = { resourceIndicatorPolicy: 'all' }

/** `protect` takes the route's resource. */
export function route (app: FastifyInstance): void {
  app.post('/mcp', { onRequest: app.oauth.protect({ resource: 'https://api.example.com/mcp', scopes: ['read'] }) }, async () => 'ok')
}
