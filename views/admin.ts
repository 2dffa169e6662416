import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ApplicationValidationError, type ApplicationInput } from '../lib/applications.js'
import type { StaffTargetKind } from '../lib/context.js'
import type { AuthorizingUser } from '../lib/endpoints/authorize-request.js'
import { listening, notifyAccessTokenRevoked, notifyListeners, notifyRefreshFamilyRevoked, type EventTarget } from '../lib/events.js'
import type { SafeHtml } from '../lib/html.js'
import { safeRedirectTarget } from '../lib/redirect-target.js'
import type { OAuthServer } from '../lib/server.js'
import { flattenParams } from '../lib/request.js'
import {
  APPLICATION_GRANT_TYPES, APPLICATION_SOURCES, MAX_PAGE_SIZE, SESSION_STATES, type Application, type ApplicationGrantType, type ApplicationPageQuery,
  type ApplicationSource, type ClientType, type PageQuery, type RecordPageQuery, type SessionListing, type SessionPageQuery, type SessionRecord, type SessionState,
  type Store,
} from '../lib/store/types.js'
import { CSRF_FIELD, type CsrfProtection } from './csrf.js'
import { sendHtml } from './html-response.js'
import { positiveId, routeId } from './route-id.js'
import { formValues, postedValues, toInput } from './management.js'
import type { PlainMessageKey, Translator } from '../lib/i18n/messages.js'
import { errorPageContext, pageContext } from './i18n.js'
import { messagesOf } from './templates/layout.js'
import {
  ADMIN_SOURCE_LABELS, adminApplicationDetailPage, adminTime, adminConfirmPage, adminIndexPage, adminListPage, adminSessionDetailPage, shown,
  type AdminChrome, type AdminFilter, type AdminRow,
} from './templates/admin.js'
import type { ExtraFormField } from './templates/applications.js'
import type { PageContext } from './templates/index.js'
import { html, type HtmlValue } from '../lib/html.js'

/** What the staff pages need from the routes plugin. */
export interface AdminOptions {
  readonly csrf: CsrfProtection
  readonly page: PageContext
  /** The routes prefix, e.g. `/o`. */
  readonly prefix: string
}

/**
 * What a section of the staff pages gets to build its routes with: the staff check, CSRF, the
 * page shell and the `staffAction` event, so every section enforces them the same way.
 */
export interface AdminKit {
  /** The pages' base path, e.g. `/o/admin/`. */
  readonly base: string
  /**
   * The page context of a request in its negotiated language (`Content-Language` and `Vary` set),
   * as `requireStaff` negotiated it; render every page of the request with it.
   */
  pageOf (request: FastifyRequest): PageContext
  /** The logged-in staff member (the request's language negotiated), or `null` with the reply sent (login redirect, or a 403 page). */
  requireStaff (request: FastifyRequest, reply: FastifyReply): Promise<AuthorizingUser | null>
  /** A POST whose CSRF token does not match gets a 403 page: `false`, and nothing may change. */
  checkCsrf (request: FastifyRequest, reply: FastifyReply, user: AuthorizingUser): Promise<boolean>
  /** The CSRF token of a form on this page. */
  csrfToken (request: FastifyRequest, reply: FastifyReply, user: AuthorizingUser): string
  /** The HTML error page in the request's language, with the security headers. */
  sendError (request: FastifyRequest, reply: FastifyReply, status: number, error: string, description: AdminMessage): Promise<FastifyReply>
  /** The shell of a page of section `current` (its path), with an optional status line (already translated). */
  chrome (user: AuthorizingUser, current: string, notice?: string | null): AdminChrome
  /** Emits `staffAction` after a change; a failing listener never fails the page. */
  staffAction (user: AuthorizingUser, action: string, kind: StaffTargetKind, ids: readonly number[]): void
  send (reply: FastifyReply, status: number, html: SafeHtml): FastifyReply
}

/**
 * A section of the staff pages: its routes live under `{base}{path}/`, and it appears in the
 * navigation. Adding a section (as the users' sessions are) is adding one to `ADMIN_SECTIONS`.
 */
export interface AdminSection {
  /** The URL segment under `admin/`, e.g. `applications`. */
  readonly path: string
  /** The message key of its name (an `admin.*` key of lib/i18n/en.ts and every catalog). */
  readonly label: PlainMessageKey
  /** The message key of its one-line description on the overview page. */
  readonly description: PlainMessageKey
  register (app: FastifyInstance, kit: AdminKit): void
}

/**
 * A message of the staff pages: a catalog key without placeholders, or a function building the
 * text in the page's language (a key with placeholders, or text from the core).
 */
export type AdminMessage = PlainMessageKey | ((m: Translator) => string)

/** A query or form that cannot be read: answered with a 400 page, its message in the page's language. */
class BadInput extends Error {
  constructor (readonly describe: (m: Translator) => string) {
    super(describe(messagesOf({ stylesheet: '' })))
  }
}

const DEFAULT_PAGE_SIZE = 25
const MAX_FILTER_LENGTH = 200
/** At most this many rows per bulk action (a page holds at most `MAX_PAGE_SIZE`). */
const MAX_SELECTED = MAX_PAGE_SIZE

/** The single-valued query parameters of a list page; a repeated or over-long one is bad input. */
function queryValues (request: FastifyRequest, names: readonly string[]): Record<string, string> {
  const { params, duplicated, malformed } = flattenParams(request.query)
  const values: Record<string, string> = {}
  for (const name of names) {
    if (duplicated.includes(name) || malformed.includes(name)) throw new BadInput((m) => m.text('admin.error.repeated', { name }))
    const value = (params[name] ?? '').trim()
    if (value.length > MAX_FILTER_LENGTH) throw new BadInput((m) => m.text('admin.error.tooLong', { name, max: MAX_FILTER_LENGTH }))
    values[name] = value
  }
  return values
}

/** A positive id from a query or form, or `undefined` when empty. */
function optionalId (value: string, name: string): number | undefined {
  if (value === '') return undefined
  const id = positiveId(value)
  if (id === null) throw new BadInput((m) => m.text('admin.error.notId', { name }))
  return id
}

function pageSize (value: string): number {
  if (value === '') return DEFAULT_PAGE_SIZE
  const size = optionalId(value, 'size') ?? DEFAULT_PAGE_SIZE
  if (size > MAX_PAGE_SIZE) throw new BadInput((m) => m.text('admin.error.sizeMax', { max: MAX_PAGE_SIZE }))
  return size
}

function oneOf<T extends string> (value: string, allowed: readonly T[], name: string): T | undefined {
  if (value === '') return undefined
  if (!(allowed as readonly string[]).includes(value)) throw new BadInput((m) => m.text('admin.error.oneOf', { name, allowed: allowed.join(', ') }))
  return value as T
}

/** A URL of a list page with these (non-empty) parameters. */
function listUrl (base: string, params: Record<string, string | number | undefined>): string {
  const query = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') query.set(key, String(value))
  const text = query.toString()
  return text === '' ? base : `${base}?${text}`
}

/** The selected ids of a bulk action form: at least one, each a positive id, without repeats. */
function selectedIds (body: unknown): number[] {
  const { lists } = flattenParams(body)
  const raw = lists.id ?? []
  if (raw.length === 0) throw new BadInput((m) => m.text('admin.error.selectNone'))
  if (raw.length > MAX_SELECTED) throw new BadInput((m) => m.text('admin.error.selectMax', { max: MAX_SELECTED }))
  // An empty value names no row: refused like any other malformed id, not read as 0.
  return [...new Set(raw.map((v) => {
    const id = optionalId(v, 'id')
    if (id === undefined) throw new BadInput((m) => m.text('admin.error.notId', { name: 'id' }))
    return id
  }))]
}

function postedField (body: unknown, name: string): string | undefined {
  return flattenParams(body).params[name]
}

/** The staff pages' `staffAction` event for `ids`, if any changed. */
function emitAction (kit: AdminKit, user: AuthorizingUser, action: string, kind: StaffTargetKind, ids: readonly number[]): void {
  if (ids.length > 0) kit.staffAction(user, action, kind, ids)
}

// applications

/** The administrator-only settings of the staff edit form: field names, with their label and hint keys. */
const STAFF_FIELDS = [
  { name: 'skipAuthorization', label: 'admin.field.skipAuthorization', hint: 'admin.hint.skipAuthorization' },
  { name: 'allowIntrospection', label: 'admin.field.allowIntrospection', hint: 'admin.hint.allowIntrospection' },
  { name: 'dpopBoundAccessTokens', label: 'admin.field.dpopBoundAccessTokens', hint: 'admin.hint.dpopBoundAccessTokens' },
  { name: 'requirePushedAuthorizationRequests', label: 'admin.field.requirePushedAuthorizationRequests', hint: 'admin.hint.requirePushedAuthorizationRequests' },
] as const satisfies ReadonlyArray<{ name: string, label: PlainMessageKey, hint: PlainMessageKey }>

/** The staff fields as the application form shows them, in the page's language. */
function staffFields (m: Translator): ExtraFormField[] {
  return STAFF_FIELDS.map((f) => ({ name: f.name, label: m.text(f.label), hint: m.text(f.hint), options: ['no', 'yes'] }))
}

function staffValues (app: Application): Record<string, string> {
  const yes = (value: boolean): string => value ? 'yes' : 'no'
  return {
    ...formValues(app),
    skipAuthorization: yes(app.skipAuthorization),
    allowIntrospection: yes(app.allowIntrospection),
    dpopBoundAccessTokens: yes(app.dpopBoundAccessTokens),
    requirePushedAuthorizationRequests: yes(app.requirePushedAuthorizationRequests),
  }
}

/** The posted staff form: the management form's fields plus the administrator-only ones (left as they are when not posted). */
function staffInput (request: FastifyRequest, values: Record<string, string>): ApplicationInput {
  const { params } = flattenParams(request.body)
  const input: Record<string, unknown> = { ...toInput(values) }
  for (const field of STAFF_FIELDS) {
    const value = params[field.name]
    if (value === undefined) continue
    values[field.name] = value
    if (value !== 'yes' && value !== 'no') throw new ApplicationValidationError({ [field.name]: 'must be yes or no' })
    input[field.name] = value === 'yes'
  }
  return input as unknown as ApplicationInput
}

const applicationsSection: AdminSection = {
  path: 'applications',
  label: 'admin.apps.label',
  description: 'admin.apps.description',
  register (app, kit) {
    const base = `${kit.base}applications/`

    async function findApplication (request: FastifyRequest, reply: FastifyReply): Promise<Application | null> {
      const id = routeId(request)
      const found = id === null ? null : await request.server.oauth.store.findApplicationById(id)
      if (found === null) await kit.sendError(request, reply, 404, 'not_found', 'admin.apps.notFound')
      return found
    }

    async function detail (request: FastifyRequest, reply: FastifyReply, user: AuthorizingUser, application: Application,
      clientSecret: string | null, notice: string | null): Promise<FastifyReply> {
      const registration = await request.server.oauth.store.findClientRegistration(application.id)
      const source: ApplicationSource = application.cimdExpiresAt !== null ? 'cimd' : registration !== null ? 'dynamic' : application.selfRegistered ? 'self-registered' : 'operator'
      const related = RECORD_SECTIONS.map((s) => ({ href: listUrl(`${kit.base}${s.path}/`, { application: application.id }), label: s.label }))
      return kit.send(reply, 200, adminApplicationDetailPage({
        application: {
          ...application,
          source,
          hasSecret: application.clientType === 'confidential' && application.tokenEndpointAuthMethod !== 'private_key_jwt',
        },
        clientSecret,
        base,
        related,
      }, kit.chrome(user, 'applications', notice), kit.pageOf(request)))
    }

    function form (request: FastifyRequest, reply: FastifyReply, user: AuthorizingUser, application: Application,
      values: Record<string, string>, errors: Record<string, string>, status: number): FastifyReply {
      const provider = request.server.oauth.openIdProviderMetadata(request.server.prefix)
      const page = kit.pageOf(request)
      const m = messagesOf(page)
      return sendHtml(reply, status, request.server.oauth.templates.applicationForm({
        title: m.text('admin.apps.editTitle', { name: application.name === '' ? application.clientId : application.name }),
        action: `${base}${application.id}/update/`,
        csrfToken: kit.csrfToken(request, reply, user),
        values,
        errors,
        clientTypes: ['confidential', 'public'],
        grantTypes: APPLICATION_GRANT_TYPES,
        algorithms: [...new Set(['', ...provider.id_token_signing_alg_values_supported, values.algorithm ?? ''])],
        userinfoAlgorithms: [...new Set(['', ...provider.userinfo_signing_alg_values_supported, values.userinfoSignedResponseAlg ?? ''])],
        extraFields: staffFields(m),
        cancel: `${base}${application.id}/`,
      }, page))
    }

    app.get(base.slice(app.prefix.length), async (request, reply) => {
      const user = await kit.requireStaff(request, reply)
      if (user === null) return reply
      const q = queryValues(request, ['q', 'clientType', 'grantType', 'user', 'source', 'before', 'size'])
      const query: ApplicationPageQuery = {
        limit: pageSize(q.size ?? ''),
        ...(q.q === '' ? {} : { search: q.q }),
        ...(q.user === '' ? {} : { userId: q.user }),
      }
      const before = optionalId(q.before ?? '', 'before')
      const clientType = oneOf<ClientType>(q.clientType ?? '', ['confidential', 'public'], 'clientType')
      const grantType = oneOf<ApplicationGrantType>(q.grantType ?? '', APPLICATION_GRANT_TYPES, 'grantType')
      const source = oneOf<ApplicationSource>(q.source ?? '', APPLICATION_SOURCES, 'source')
      const full: ApplicationPageQuery = {
        ...query,
        ...(before === undefined ? {} : { before }),
        ...(clientType === undefined ? {} : { clientType }),
        ...(grantType === undefined ? {} : { grantType }),
        ...(source === undefined ? {} : { source }),
      }
      // One row more than the page: whether there is a next page, without counting the table.
      const listed = await request.server.oauth.store.pageApplications({ ...full, limit: full.limit + 1 })
      const rows = listed.slice(0, full.limit)
      const filters = { q: q.q, clientType: q.clientType, grantType: q.grantType, user: q.user, source: q.source, size: q.size }
      const page = kit.pageOf(request)
      const m = messagesOf(page)
      const sourceLabel = (v: string): string => { const key = ADMIN_SOURCE_LABELS[v]; return key === undefined ? v : m.text(key) }
      const anyOption = { value: '', label: m.text('admin.apps.any') }
      const filterControls: AdminFilter[] = [
        { kind: 'text', name: 'q', label: m.text('admin.apps.search'), value: q.q ?? '' },
        { kind: 'select', name: 'clientType', label: m.text('admin.apps.clientType'), value: q.clientType ?? '', options: [anyOption, ...['confidential', 'public'].map((v) => ({ value: v, label: v }))] },
        { kind: 'select', name: 'grantType', label: m.text('admin.apps.grantType'), value: q.grantType ?? '', options: [anyOption, ...APPLICATION_GRANT_TYPES.map((v) => ({ value: v, label: v }))] },
        { kind: 'text', name: 'user', label: m.text('admin.apps.owner'), value: q.user ?? '' },
        { kind: 'select', name: 'source', label: m.text('admin.apps.source'), value: q.source ?? '', options: [anyOption, ...APPLICATION_SOURCES.map((v) => ({ value: v, label: sourceLabel(v) }))] },
      ]
      const last = rows[rows.length - 1]
      return kit.send(reply, 200, adminListPage({
        title: m.text('admin.apps.label'),
        base,
        filters: filterControls,
        columns: (['admin.column.id', 'admin.column.name', 'admin.column.clientId', 'admin.column.type', 'admin.column.grantType',
          'admin.column.owner', 'admin.column.source', 'admin.column.created'] as const).map((key) => m.text(key)),
        rows: rows.map(({ application: a, source: s }): AdminRow => ({
          id: a.id,
          selectable: false,
          cells: [
            html`<a href="${base}${a.id}/">${a.id}</a>`,
            shown(a.name),
            html`<code>${shown(a.clientId)}</code>`,
            a.clientType,
            a.authorizationGrantType,
            a.userId === null ? '' : shown(a.userId),
            sourceLabel(s),
            adminTime(page, a.createdAt),
          ],
        })),
        next: listed.length > full.limit && last !== undefined ? listUrl(base, { ...filters, before: last.application.id }) : null,
        first: before === undefined ? null : listUrl(base, filters),
        action: null,
      }, kit.chrome(user, 'applications'), page))
    })

    app.get(`${base.slice(app.prefix.length)}:id/`, async (request, reply) => {
      const user = await kit.requireStaff(request, reply)
      if (user === null) return reply
      const application = await findApplication(request, reply)
      if (application === null) return reply
      const saved = (request.query as { saved?: unknown }).saved === '1'
      return await detail(request, reply, user, application, null, saved ? messagesOf(kit.pageOf(request)).text('admin.detail.saved') : null)
    })

    app.get(`${base.slice(app.prefix.length)}:id/update/`, async (request, reply) => {
      const user = await kit.requireStaff(request, reply)
      if (user === null) return reply
      const application = await findApplication(request, reply)
      if (application === null) return reply
      return form(request, reply, user, application, staffValues(application), {}, 200)
    })

    app.post(`${base.slice(app.prefix.length)}:id/update/`, async (request, reply) => {
      const user = await kit.requireStaff(request, reply)
      if (user === null) return reply
      const application = await findApplication(request, reply)
      if (application === null) return reply
      if (!await kit.checkCsrf(request, reply, user)) return reply
      const values = postedValues(request)
      try {
        // Staff vouch for what they set: unlike an owner's edit (selfService), it does not mark
        // the application self-registered. It does not clear that mark either (see docs/admin.md).
        const updated = await request.server.oauth.updateApplication(application.id, staffInput(request, values))
        if (updated === null) return await kit.sendError(request, reply, 404, 'not_found', 'admin.apps.notFound')
        emitAction(kit, user, 'application.update', 'application', [application.id])
        if (updated.clientSecret !== null) return await detail(request, reply, user, updated.application, updated.clientSecret, null)
        return await reply.redirect(`${base}${application.id}/?saved=1`, 303)
      } catch (err) {
        if (!(err instanceof ApplicationValidationError)) throw err
        return form(request, reply, user, application, values, { ...err.fields }, 400)
      }
    })

    app.get(`${base.slice(app.prefix.length)}:id/regenerate-secret/`, async (request, reply) => {
      const user = await kit.requireStaff(request, reply)
      if (user === null) return reply
      const application = await findApplication(request, reply)
      if (application === null) return reply
      const page = kit.pageOf(request)
      const m = messagesOf(page)
      return kit.send(reply, 200, adminConfirmPage({
        title: m.text('admin.apps.regenerateTitle', { name: application.name === '' ? application.clientId : application.name }),
        message: m.text('admin.apps.regenerateMessage'),
        action: `${base}${application.id}/regenerate-secret/`,
        csrfToken: kit.csrfToken(request, reply, user),
        ids: [],
        confirmLabel: m.text('admin.apps.regenerateConfirm'),
        cancel: `${base}${application.id}/`,
      }, kit.chrome(user, 'applications'), page))
    })

    app.post(`${base.slice(app.prefix.length)}:id/regenerate-secret/`, async (request, reply) => {
      const user = await kit.requireStaff(request, reply)
      if (user === null) return reply
      const application = await findApplication(request, reply)
      if (application === null) return reply
      if (!await kit.checkCsrf(request, reply, user)) return reply
      let regenerated
      try {
        regenerated = await request.server.oauth.regenerateClientSecret(application.id)
      } catch (err) {
        if (!(err instanceof ApplicationValidationError)) throw err
        const fields = Object.values(err.fields).join(' ')
        return await kit.sendError(request, reply, 400, 'invalid_request', () => fields)
      }
      if (regenerated === null) return await kit.sendError(request, reply, 400, 'invalid_request', 'admin.apps.noSecret')
      emitAction(kit, user, 'application.regenerateSecret', 'application', [application.id])
      // The secret is shown on this response only (never in a URL, so no redirect); then only its hash exists.
      return await detail(request, reply, user, regenerated.application, regenerated.clientSecret, null)
    })

    app.get(`${base.slice(app.prefix.length)}:id/delete/`, async (request, reply) => {
      const user = await kit.requireStaff(request, reply)
      if (user === null) return reply
      const application = await findApplication(request, reply)
      if (application === null) return reply
      const page = kit.pageOf(request)
      const m = messagesOf(page)
      return kit.send(reply, 200, adminConfirmPage({
        title: m.text('admin.apps.deleteTitle', { name: application.name === '' ? application.clientId : application.name }),
        message: m.text('admin.apps.deleteMessage'),
        action: `${base}${application.id}/delete/`,
        csrfToken: kit.csrfToken(request, reply, user),
        ids: [],
        confirmLabel: m.text('admin.apps.deleteConfirm'),
        cancel: `${base}${application.id}/`,
      }, kit.chrome(user, 'applications'), page))
    })

    app.post(`${base.slice(app.prefix.length)}:id/delete/`, async (request, reply) => {
      const user = await kit.requireStaff(request, reply)
      if (user === null) return reply
      const application = await findApplication(request, reply)
      if (application === null) return reply
      if (!await kit.checkCsrf(request, reply, user)) return reply
      if (await request.server.oauth.store.deleteApplication(application.id)) emitAction(kit, user, 'application.delete', 'application', [application.id])
      return await reply.redirect(base, 303)
    })
  },
}

// list sections: a list page with filters and keyset pages, and a bulk action confirmed first

/** A filter of a list page: a query parameter and its control. */
type ListFilter =
  | { readonly kind: 'text', readonly name: string, readonly label: PlainMessageKey }
  | {
    readonly kind: 'select'
    readonly name: string
    readonly label: PlainMessageKey
    /** The values offered after "any" (the query checks the value it gets). */
    readonly options: readonly string[]
    /** The message key of an option's label; an option without one is shown as its value. */
    readonly optionLabels?: Readonly<Record<string, PlainMessageKey>>
  }

/** What a row's cells are built with. */
interface RowView<P> {
  readonly now: Date
  readonly page: PageContext
  /** The staff pages' base path (`kit.base`), for links to other sections. */
  readonly base: string
  /** What `prepare` looked up for the page. */
  readonly prepared: P
}

/** The bulk action of a list: select rows, confirm, apply to each, report a `staffAction`. */
interface ListAction<R> {
  readonly kind: StaffTargetKind
  /** `<kind>.<verb>` of the event. */
  readonly verb: string
  readonly label: PlainMessageKey
  readonly confirmTitle: PlainMessageKey
  readonly confirmMessage: PlainMessageKey
  /** Whether the row still can be acted on (a checkbox is shown). */
  selectable (row: R, now: Date): boolean
  /** Applies the action to one id; true when something changed. */
  apply (id: number, server: Omit<OAuthServer, 'authenticateClient'>, now: Date): Promise<boolean>
}

/**
 * A section that is one list (Django admin's changelist): its filters, how the store query is
 * built from them, its columns and rows, and an optional bulk action. `listSection` gives every
 * such section the same query checks, keyset pages, confirmation flow, CSRF and event.
 */
interface ListSectionSpec<R, Q extends PageQuery, P> {
  readonly path: string
  readonly label: PlainMessageKey
  readonly description: PlainMessageKey
  readonly filters: readonly ListFilter[]
  /** The columns' headers (message keys). */
  readonly columns: readonly PlainMessageKey[]
  /**
   * The store query: `paging` plus the filters from `values` (each filter's query parameter,
   * trimmed, `''` when absent). A value that cannot be read throws `BadInput` (a 400 page).
   */
  query (values: Readonly<Record<string, string>>, paging: PageQuery): Q
  list (store: Store, query: Q): Promise<R[]>
  /** A row's id: its checkbox's value and the next page's cursor. */
  id (row: R): number
  /** What the page's rows need besides themselves, looked up once per page. */
  prepare (store: Store, rows: readonly R[]): Promise<P>
  /** The cells of a row, in the page's language. */
  cells (row: R, view: RowView<P>): readonly HtmlValue[]
  readonly action: ListAction<R> | null
}

function listSection<R, Q extends PageQuery, P> (spec: ListSectionSpec<R, Q, P>): AdminSection {
  return {
    path: spec.path,
    label: spec.label,
    description: spec.description,
    register (app, kit) {
      const base = `${kit.base}${spec.path}/`
      const route = base.slice(app.prefix.length)
      const actionUrl = `${base}action/`
      const filterNames = spec.filters.map((f) => f.name)

      app.get(route, async (request, reply) => {
        const user = await kit.requireStaff(request, reply)
        if (user === null) return reply
        const q = queryValues(request, [...filterNames, 'before', 'size', 'done', 'of'])
        const values = Object.fromEntries(filterNames.map((name) => [name, q[name] ?? '']))
        const before = optionalId(q.before ?? '', 'before')
        const limit = pageSize(q.size ?? '')
        // One row more than the page: whether there is a next page, without counting the table.
        const query = spec.query(values, { limit: limit + 1, ...(before === undefined ? {} : { before }) })
        const { store, clock } = request.server.oauth
        const now = clock.now()
        const page = kit.pageOf(request)
        const m = messagesOf(page)
        const listed = await spec.list(store, query)
        const rows = listed.slice(0, limit)
        const view: RowView<P> = { now, page, base: kit.base, prepared: await spec.prepare(store, rows) }
        const filters = { ...values, size: q.size }
        const last = rows[rows.length - 1]
        const done = optionalId(q.done ?? '', 'done')
        const of = optionalId(q.of ?? '', 'of')
        const notice = done === undefined && of === undefined ? null : m.text('admin.list.done', { changed: done ?? 0, asked: of ?? 0 })
        const optionLabel = (f: ListFilter & { kind: 'select' }, v: string): string => { const key = f.optionLabels?.[v]; return key === undefined ? v : m.text(key) }
        return kit.send(reply, 200, adminListPage({
          title: m.text(spec.label),
          base,
          filters: spec.filters.map((f): AdminFilter => f.kind === 'text'
            ? { kind: 'text', name: f.name, label: m.text(f.label), value: values[f.name] ?? '' }
            : {
                kind: 'select',
                name: f.name,
                label: m.text(f.label),
                value: values[f.name] ?? '',
                options: [{ value: '', label: m.text('admin.apps.any') }, ...f.options.map((v) => ({ value: v, label: optionLabel(f, v) }))],
              }),
          columns: spec.columns.map((key) => m.text(key)),
          rows: rows.map((r): AdminRow => ({ id: spec.id(r), selectable: spec.action?.selectable(r, now) ?? false, cells: spec.cells(r, view) })),
          next: listed.length > limit && last !== undefined ? listUrl(base, { ...filters, before: spec.id(last) }) : null,
          first: before === undefined ? null : listUrl(base, filters),
          action: spec.action === null ? null : { url: actionUrl, label: m.text(spec.action.label), csrfToken: kit.csrfToken(request, reply, user) },
        }, kit.chrome(user, spec.path, notice), page))
      })

      const action = spec.action
      if (action === null) return
      // The list's form posts the selection here; without `confirm=yes` the answer is the
      // confirmation page (carrying the same selection), with it the action runs (Django admin's flow).
      app.post(`${route}action/`, async (request, reply) => {
        const user = await kit.requireStaff(request, reply)
        if (user === null) return reply
        if (!await kit.checkCsrf(request, reply, user)) return reply
        const ids = selectedIds(request.body)
        if (postedField(request.body, 'confirm') !== 'yes') {
          const page = kit.pageOf(request)
          const m = messagesOf(page)
          return kit.send(reply, 200, adminConfirmPage({
            title: m.text(action.confirmTitle),
            message: m.text(action.confirmMessage),
            action: actionUrl,
            csrfToken: kit.csrfToken(request, reply, user),
            ids,
            confirmLabel: m.text(action.label),
            cancel: base,
          }, kit.chrome(user, spec.path), page))
        }
        const server = request.server.oauth
        const changed: number[] = []
        for (const id of ids) if (await action.apply(id, server, server.clock.now())) changed.push(id)
        emitAction(kit, user, action.verb, action.kind, changed)
        return await reply.redirect(listUrl(base, { done: changed.length, of: ids.length }), 303)
      })
    },
  }
}

// tokens, codes, device authorizations

/** A record of a token, code or device list. */
interface ListedRecord {
  readonly id: number
  readonly applicationId: number | null
  readonly userId: string | null
  readonly scope: string
  readonly createdAt: Date
}

/** How one token-like list is shown and what its bulk action does. */
interface RecordSectionSpec<R extends ListedRecord> {
  readonly path: string
  readonly label: PlainMessageKey
  readonly description: PlainMessageKey
  /** Extra columns after id, application, user, scope (their headers' keys). */
  readonly columns: readonly PlainMessageKey[]
  list (store: Store, query: RecordPageQuery): Promise<R[]>
  /** The extra cells of a row, in the page's language. */
  cells (record: R, now: Date, page: PageContext): readonly HtmlValue[]
  readonly action: ListAction<R> | null
}

/** The client id for a `tokenRevoked` event, looked up only when someone listens. */
async function clientIdFor (store: Store, target: EventTarget, applicationId: number | null): Promise<string | null> {
  if (applicationId === null || !listening(target.events, 'tokenRevoked')) return null
  return (await store.findApplicationById(applicationId))?.clientId ?? null
}

const when = (date: Date | null, page: PageContext): HtmlValue => date === null ? '' : adminTime(page, date)
const expiry = (date: Date, now: Date, page: PageContext): HtmlValue => date.getTime() <= now.getTime()
  ? html`<span class="oat-muted">${messagesOf(page).html('admin.expired', { date: adminTime(page, date) })}</span>`
  : adminTime(page, date)

const accessTokensSpec: RecordSectionSpec<Awaited<ReturnType<Store['pageAccessTokens']>>[number]> = {
  path: 'access-tokens',
  label: 'admin.accessTokens.label',
  description: 'admin.accessTokens.description',
  columns: ['admin.column.expires', 'admin.column.family', 'admin.column.created'],
  list: async (store, query) => await store.pageAccessTokens(query),
  cells: (r, now, page) => [expiry(r.expiresAt, now, page), r.tokenFamily === null ? '' : html`<code>${shown(r.tokenFamily)}</code>`, when(r.createdAt, page)],
  action: {
    kind: 'accessToken',
    verb: 'accessToken.revoke',
    label: 'admin.accessTokens.action',
    confirmTitle: 'admin.accessTokens.confirmTitle',
    confirmMessage: 'admin.accessTokens.confirmMessage',
    selectable: () => true,
    async apply (id, server, now) {
      const found = await server.store.findAccessTokenById(id)
      if (found === null) return false
      await server.store.revokeAccessToken(id, now)
      notifyAccessTokenRevoked(server, 'staff', found, await clientIdFor(server.store, server, found.applicationId))
      return true
    },
  },
}

const refreshTokensSpec: RecordSectionSpec<Awaited<ReturnType<Store['pageRefreshTokens']>>[number]> = {
  path: 'refresh-tokens',
  label: 'admin.refreshTokens.label',
  description: 'admin.refreshTokens.description',
  columns: ['admin.column.family', 'admin.column.status', 'admin.column.created'],
  list: async (store, query) => await store.pageRefreshTokens(query),
  cells: (r, _now, page) => [
    html`<code>${shown(r.tokenFamily)}</code>`,
    r.revokedAt === null ? messagesOf(page).html('admin.refreshTokens.live') : messagesOf(page).html('admin.refreshTokens.revoked', { date: adminTime(page, r.revokedAt) }),
    when(r.createdAt, page),
  ],
  action: {
    kind: 'refreshToken',
    verb: 'refreshToken.revoke',
    label: 'admin.refreshTokens.action',
    confirmTitle: 'admin.refreshTokens.confirmTitle',
    confirmMessage: 'admin.refreshTokens.confirmMessage',
    selectable: (r) => r.revokedAt === null,
    async apply (id, server, now) {
      const found = await server.store.findRefreshTokenById(id)
      if (found === null) return false
      await server.store.revokeTokenFamily(found.tokenFamily, now)
      notifyRefreshFamilyRevoked(server, 'staff', found, await clientIdFor(server.store, server, found.applicationId))
      return true
    },
  },
}

const grantsSpec: RecordSectionSpec<Awaited<ReturnType<Store['pageGrants']>>[number]> = {
  path: 'grants',
  label: 'admin.grants.label',
  description: 'admin.grants.description',
  columns: ['admin.column.redirectUri', 'admin.column.expires', 'admin.column.status', 'admin.column.created'],
  list: async (store, query) => await store.pageGrants(query),
  cells: (r, now, page) => [
    html`<code>${shown(r.redirectUri)}</code>`,
    expiry(r.expiresAt, now, page),
    r.consumedAt === null ? messagesOf(page).html('admin.grants.unused') : messagesOf(page).html('admin.grants.used', { date: adminTime(page, r.consumedAt) }),
    when(r.createdAt, page),
  ],
  action: {
    kind: 'grant',
    verb: 'grant.revoke',
    label: 'admin.grants.action',
    confirmTitle: 'admin.grants.confirmTitle',
    confirmMessage: 'admin.grants.confirmMessage',
    selectable: () => true,
    apply: async (id, { store }, now) => await store.revokeGrant(id, now),
  },
}

const deviceGrantsSpec: RecordSectionSpec<Awaited<ReturnType<Store['pageDeviceGrants']>>[number]> = {
  path: 'device-grants',
  label: 'admin.deviceGrants.label',
  description: 'admin.deviceGrants.description',
  columns: ['admin.column.status', 'admin.column.expires', 'admin.column.exchanged', 'admin.column.created'],
  list: async (store, query) => await store.pageDeviceGrants(query),
  // The status is the protocol's word (pending, approved, denied), shown as stored.
  cells: (r, now, page) => [r.status, expiry(r.expiresAt, now, page), when(r.consumedAt, page), when(r.createdAt, page)],
  action: {
    kind: 'deviceGrant',
    verb: 'deviceGrant.deny',
    label: 'admin.deviceGrants.action',
    confirmTitle: 'admin.deviceGrants.confirmTitle',
    confirmMessage: 'admin.deviceGrants.confirmMessage',
    selectable: (r) => r.consumedAt === null && r.status !== 'denied',
    apply: async (id, { store }, now) => await store.denyDeviceGrant(id, now),
  },
}

const idTokensSpec: RecordSectionSpec<Awaited<ReturnType<Store['pageIdTokens']>>[number]> = {
  path: 'id-tokens',
  label: 'admin.idTokens.label',
  description: 'admin.idTokens.description',
  columns: ['admin.column.expires', 'admin.column.created'],
  list: async (store, query) => await store.pageIdTokens(query),
  cells: (r, now, page) => [expiry(r.expiresAt, now, page), when(r.createdAt, page)],
  action: null,
}

/** A token, code or device list as a list section: id, application, user and scope, then its own columns. */
function recordSection<R extends ListedRecord> (spec: RecordSectionSpec<R>): AdminSection {
  return listSection<R, RecordPageQuery, ReadonlyMap<number, Application | null>>({
    path: spec.path,
    label: spec.label,
    description: spec.description,
    filters: [
      { kind: 'text', name: 'application', label: 'admin.list.application' },
      { kind: 'text', name: 'user', label: 'admin.list.user' },
    ],
    columns: ['admin.column.id', 'admin.column.application', 'admin.column.user', 'admin.column.scope', ...spec.columns],
    query: (values, paging) => {
      const applicationId = optionalId(values.application ?? '', 'application')
      return {
        ...paging,
        ...(applicationId === undefined ? {} : { applicationId }),
        ...(values.user === '' || values.user === undefined ? {} : { userId: values.user }),
      }
    },
    list: spec.list,
    id: (r) => r.id,
    // The applications' names, one lookup per application of the page.
    async prepare (store, records) {
      const names = new Map<number, Application | null>()
      for (const id of new Set(records.map((r) => r.applicationId).filter((id): id is number => id !== null))) names.set(id, await store.findApplicationById(id))
      return names
    },
    cells: (r, { now, page, base, prepared: names }) => {
      const a = r.applicationId === null ? undefined : names.get(r.applicationId)
      const appCell: HtmlValue = r.applicationId === null
        ? ''
        : a == null ? String(r.applicationId) : html`<a href="${base}applications/${r.applicationId}/">${shown(a.name === '' ? a.clientId : a.name)}</a>`
      return [String(r.id), appCell, r.userId === null ? '' : shown(r.userId), shown(r.scope), ...spec.cells(r, now, page)]
    },
    action: spec.action,
  })
}

const RECORD_SECTIONS: readonly AdminSection[] = [
  recordSection(accessTokensSpec),
  recordSection(refreshTokensSpec),
  recordSection(grantsSpec),
  recordSection(deviceGrantsSpec),
  recordSection(idTokensSpec),
]

// user sessions (OpenID Connect Back-Channel Logout)

const SESSION_STATE_LABELS: Readonly<Record<SessionState, PlainMessageKey>> = { live: 'admin.sessions.stateLive', ended: 'admin.sessions.stateEnded' }

const sessionsList = listSection<SessionListing, SessionPageQuery, null>({
  path: 'sessions',
  label: 'admin.sessions.label',
  description: 'admin.sessions.description',
  filters: [
    { kind: 'text', name: 'user', label: 'admin.list.user' },
    { kind: 'select', name: 'state', label: 'admin.sessions.state', options: SESSION_STATES, optionLabels: SESSION_STATE_LABELS },
  ],
  columns: ['admin.column.id', 'admin.column.user', 'admin.sessions.column.sid', 'admin.sessions.column.authenticated', 'admin.column.created',
    'admin.column.expires', 'admin.sessions.state', 'admin.sessions.column.clients'],
  query: (values, paging) => {
    const state = oneOf<SessionState>(values.state ?? '', SESSION_STATES, 'state')
    return {
      ...paging,
      ...(values.user === '' || values.user === undefined ? {} : { userId: values.user }),
      ...(state === undefined ? {} : { state }),
    }
  },
  list: async (store, query) => await store.pageSessions(query),
  id: (r) => r.session.id,
  prepare: async () => null,
  cells: ({ session: s, clients }, { now, page, base }) => [
    html`<a href="${base}sessions/${s.id}/">${s.id}</a>`,
    shown(s.userId),
    html`<code>${shown(s.sid)}</code>`,
    when(s.authTime, page),
    when(s.createdAt, page),
    when(s.expiresAt, page),
    sessionStatus(s, now, page),
    String(clients),
  ],
  action: {
    kind: 'session',
    verb: 'session.end',
    label: 'admin.sessions.action',
    confirmTitle: 'admin.sessions.confirmTitle',
    confirmMessage: 'admin.sessions.confirmMessage',
    // An ended session cannot be ended again; an expired one not yet ended can (its relying parties are told now).
    selectable: ({ session }) => session.endedAt === null,
    // Like a logout: logout tokens queued for the session's relying parties, its refresh token
    // families without offline_access revoked, `logout` emitted (reason `staff`). The staff
    // page does not wait for each relying party to answer: the delivery worker sends (and
    // retries) the tokens. An unknown or already ended id ends nothing.
    apply: async (id, server) => (await server.endSessions({ id }, { reason: 'staff', wait: false })).sids.length > 0,
  },
})

/** The sessions list, and each session's detail page. */
const sessionsSection: AdminSection = {
  ...sessionsList,
  register (app, kit) {
    sessionsList.register(app, kit)
    const base = `${kit.base}sessions/`

    // `admin/sessions/:id/`: the session, the relying parties it involved, the logout tokens still
    // queued for it; "End this session" posts to the list's action, so it is confirmed the same way.
    app.get(`${base.slice(app.prefix.length)}:id/`, async (request, reply) => {
      const user = await kit.requireStaff(request, reply)
      if (user === null) return reply
      const id = routeId(request)
      const { store, clock } = request.server.oauth
      const found = id === null ? null : await store.findSessionDetail(id)
      if (found === null) return await kit.sendError(request, reply, 404, 'not_found', 'admin.sessions.detail.notFound')
      const page = kit.pageOf(request)
      const { session, clients, deliveries } = found
      const nameOf = (a: Application): string => a.name === '' ? a.clientId : a.name
      const applications = new Map(clients.map((c) => [c.application.id, c.application]))
      return kit.send(reply, 200, adminSessionDetailPage({
        session,
        status: sessionStatus(session, clock.now(), page),
        clients: clients.map(({ application: a, since }) => ({
          applicationId: a.id, name: nameOf(a), clientId: a.clientId, backchannel: a.backchannelLogoutUri !== '', since,
        })),
        deliveries: deliveries.map((d) => {
          const a = applications.get(d.applicationId)
          return { ...d, application: a === undefined ? null : nameOf(a) }
        }),
        base: kit.base,
        end: session.endedAt === null ? { url: `${base}action/`, csrfToken: kit.csrfToken(request, reply, user) } : null,
      }, kit.chrome(user, 'sessions'), page))
    })
  },
}

/** A session's status: ended (when), expired (not ended yet), or live. */
function sessionStatus (s: SessionRecord, now: Date, page: PageContext): HtmlValue {
  const m = messagesOf(page)
  return s.endedAt !== null
    ? m.html('admin.sessions.ended', { date: adminTime(page, s.endedAt) })
    : s.expiresAt.getTime() <= now.getTime() ? html`<span class="oat-muted">${m.text('admin.sessions.expired')}</span>` : m.text('admin.sessions.live')
}

/** The sections of the staff pages, in navigation order; add one here to extend the pages. */
export const ADMIN_SECTIONS: readonly AdminSection[] = [applicationsSection, ...RECORD_SECTIONS, sessionsSection]

/**
 * The staff administration pages (what Django's admin gives DOT operators) under `{prefix}/admin/`:
 * only for users the host's `resolveUser` marks `isStaff`. Anonymous visitors are sent to log in,
 * anyone else gets a 403 page; every POST carries a CSRF token bound to the staff member, every
 * change is confirmed first when it destroys something and is reported as a `staffAction` event.
 */
export async function registerAdminPages (app: FastifyInstance, options: AdminOptions, sections: readonly AdminSection[] = ADMIN_SECTIONS): Promise<void> {
  const { csrf, page } = options
  const base = `${options.prefix}/admin/`
  const binding = (user: AuthorizingUser): string => `${user.id}\0admin`

  // The negotiated page context of each request (set by requireStaff, which every route calls first).
  const localized = new WeakMap<FastifyRequest, PageContext>()

  const kit: AdminKit = {
    base,
    pageOf: (request) => localized.get(request) ?? page,
    async requireStaff (request, reply) {
      const user = await request.server.oauth.resolveUser(request)
      if (user === null) {
        if (request.method === 'GET') {
          const { loginUrl } = request.server.oauth
          const next = safeRedirectTarget(request.url) ?? base
          await reply.redirect(`${loginUrl}${loginUrl.includes('?') ? '&' : '?'}next=${encodeURIComponent(next)}`, 302)
        } else {
          await kit.sendError(request, reply, 403, 'access_denied', 'admin.error.notLoggedIn')
        }
        return null
      }
      // Only an explicit `true`: a host that never sets it gives nobody these pages.
      if (user.isStaff !== true) {
        await kit.sendError(request, reply, 403, 'access_denied', 'admin.error.staffOnly')
        return null
      }
      localized.set(request, await pageContext(request, reply, page.stylesheet))
      return user
    },
    async checkCsrf (request, reply, user) {
      // Exactly one token: a form that repeats the field is not one these pages built.
      const { params, duplicated } = flattenParams(request.body)
      if (!duplicated.includes(CSRF_FIELD) && csrf.verify(request, params[CSRF_FIELD], binding(user))) return true
      await kit.sendError(request, reply, 403, 'access_denied', 'common.csrfReload')
      return false
    },
    csrfToken: (request, reply, user) => csrf.issue(request, reply, binding(user)),
    async sendError (request, reply, status, error, description) {
      const context = localized.get(request) ?? await errorPageContext(request, reply, page.stylesheet)
      const m = messagesOf(context)
      const text = typeof description === 'string' ? m.text(description) : description(m)
      return sendHtml(reply, status, reply.server.oauth.templates.error({ status, error, description: text }, context))
    },
    chrome: (user, current, notice = null) => ({
      nav: [{ href: base, label: 'admin.shell.home', current: current === '' }, ...sections.map((s) => ({ href: `${base}${s.path}/`, label: s.label, current: s.path === current }))],
      staffUserId: user.id,
      notice,
    }),
    staffAction (user, action, kind, ids) {
      notifyListeners(app.oauth.events, 'staffAction', { at: app.oauth.clock.now(), staffUserId: user.id, action, target: { kind, ids: [...ids] } })
    },
    send: (reply, status, body) => sendHtml(reply, status, body),
  }

  // The staff pages' own error handler: unreadable filters and selections are a 400 page; the
  // rest goes to the pages' HTML error handler.
  await app.register(async function adminPages (admin) {
    admin.setErrorHandler(async (err, request, reply) => {
      if (err instanceof BadInput) return await kit.sendError(request, reply, 400, 'invalid_request', err.describe)
      throw err
    })
    admin.get(`${base.slice(app.prefix.length)}`, async (request, reply) => {
      const user = await kit.requireStaff(request, reply)
      if (user === null) return reply
      return kit.send(reply, 200, adminIndexPage({
        sections: sections.map((s) => ({ href: `${base}${s.path}/`, label: s.label, description: s.description })),
      }, kit.chrome(user, ''), kit.pageOf(request)))
    })
    for (const section of sections) section.register(admin, kit)
  })
}
