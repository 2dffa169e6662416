// Drives the management pages (DOT's applications/ pages) as a logged-in user, through app.inject.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { ALICE, FORM, form } from './index.js'
import { asUser, csrfCookieOf, unescapeHtml } from './authorize.js'

/** A page's CSRF token and the cookie it is bound to. */
export interface PageForm { readonly token: string, readonly cookie: string }

/** The CSRF token of the form on `res` and the cookie it is bound to (or `cookie`, when the page set none). */
export function pageForm (res: LightMyRequestResponse, cookie?: string): PageForm {
  const token = /name="csrf_token" value="([^"]*)"/.exec(res.body)?.[1]
  const set = csrfCookieOf(res) ?? cookie
  if (token === undefined || set === undefined) throw new Error(`no form on ${res.statusCode}: ${res.body.slice(0, 300)}`)
  return { token: unescapeHtml(token), cookie: set }
}

/** Fetches the form at `page` and posts `fields` to `action` with its CSRF token, as `user`. */
export async function submitPage (app: FastifyInstance, page: string, action: string, fields: Record<string, string>, user: string = ALICE.id): Promise<LightMyRequestResponse> {
  const shown = await app.inject({ method: 'GET', url: page, headers: asUser(user) })
  const state = pageForm(shown)
  return await app.inject({
    method: 'POST', url: action, payload: form({ ...fields, csrf_token: state.token }), headers: asUser(user, { ...FORM, cookie: state.cookie }),
  })
}

/** What the register page showed: the new application's id, client id and secret (once). */
export interface PageApplication { readonly id: number, readonly clientId: string, readonly secret: string | null }

/**
 * Registers an application on `{prefix}/applications/register/` as `user`, as anyone who can log
 * in may; fails the test when the page refuses it.
 */
export async function registerThroughPages (app: FastifyInstance, fields: Record<string, string>, user: string = ALICE.id, prefix = '/o'): Promise<PageApplication> {
  const url = `${prefix}/applications/register/`
  const res = await submitPage(app, url, url, { name: '', postLogoutRedirectUris: '', allowedOrigins: '', algorithm: '', ...fields }, user)
  const clientId = /id="client-id">([^<]*)</.exec(res.body)?.[1]
  if (res.statusCode !== 200 || clientId === undefined) throw new Error(`registration through the pages failed: ${res.statusCode} ${res.body.slice(0, 500)}`)
  return {
    id: Number(/href="[^"]*\/applications\/(\d+)\/update\/"/.exec(res.body)?.[1] ?? 0),
    clientId: unescapeHtml(clientId),
    secret: /id="client-secret">([^<]*)</.exec(res.body)?.[1] ?? null,
  }
}
