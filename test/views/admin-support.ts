// Shared by the staff page tests (test/views/admin.spec.ts, test/security/admin-probes.spec.ts). Not a test file.
import type { FastifyInstance, FastifyRequest, LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import { oauthRoutes } from '../../index.js'
import { FORM, form, type BuildAppOptions } from '../helpers/index.js'
import { asUser, buildAuthorizeApp, csrfCookieOf, headerUser, unescapeHtml } from '../helpers/authorize.js'

export const STAFF = 'staff-sam'

/** The test `resolveUser`, with the users whose id starts with `staff-` marked staff. */
export function staffUser (request: FastifyRequest): { id: string, isStaff: boolean } | null {
  const user = headerUser(request)
  return user === null ? null : { ...user, isStaff: user.id.startsWith('staff-') }
}

export async function buildAdminApp (t: Test, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = await buildAuthorizeApp(t, { prefix: false, resolveUser: staffUser, ...options })
  await app.register(oauthRoutes, { prefix: '/o', adminPages: true })
  return app
}

/** A page's CSRF token and the cookie it is bound to. */
export interface FormState { token: string, cookie: string }

export function formState (res: LightMyRequestResponse, cookie?: string): FormState {
  const token = /name="csrf_token" value="([^"]*)"/.exec(res.body)?.[1]
  const set = csrfCookieOf(res) ?? cookie
  if (token === undefined || set === undefined) throw new Error(`no form on ${res.statusCode}: ${res.body.slice(0, 300)}`)
  return { token: unescapeHtml(token), cookie: set }
}

export async function get (app: FastifyInstance, url: string, user: string | null = STAFF): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'GET', url, headers: asUser(user) })
}

export async function post (app: FastifyInstance, url: string, fields: Record<string, string | readonly string[]>, state: FormState | null,
  user: string | null = STAFF): Promise<LightMyRequestResponse> {
  const payload = form(state === null ? fields : { ...fields, csrf_token: state.token })
  return await app.inject({ method: 'POST', url, payload, headers: asUser(user, { ...FORM, ...(state === null ? {} : { cookie: state.cookie }) }) })
}
