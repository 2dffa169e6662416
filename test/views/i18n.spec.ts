// The toolkit's pages in the user's language, through app.inject: Accept-Language negotiation
// (RFC 9110 §12.5.4), every page in French, the headers, the host's languages, overrides,
// resolveLocale and replaced templates. The catalogs themselves: test/lib/i18n.spec.ts.
import type { FastifyInstance, FastifyRequest, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { oauthRoutes } from '../../index.js'
import { asUser, buildAuthorizeApp, codeFlowTokens, codeRequest, createCodeApplication, csrfCookieOf, getAuthorize, parseConsent, postDecision, unescapeHtml } from '../helpers/authorize.js'
import { ALICE, FORM, form, type BuildAppOptions } from '../helpers/index.js'
import { buildDeviceApp, createDeviceApplication, deviceCode, pageForm, postForm } from '../device/support.js'
import { buildOidcApp, createOidcApplication } from '../oidc/support.js'
import { buildAdminApp, formState, STAFF } from './admin-support.js'

const FR = { 'accept-language': 'fr' }

/** The page is French: lang, Content-Language, Vary, and the given French text. */
function assertFrench (t: Test, res: LightMyRequestResponse, texts: readonly string[], what: string): void {
  t.match(res.body, /<html lang="fr">/, `${what}: lang`)
  t.equal(res.headers['content-language'], 'fr', `${what}: Content-Language`)
  t.match(String(res.headers.vary), /Accept-Language/i, `${what}: Vary`)
  for (const text of texts) t.match(unescapeHtml(res.body), text, `${what}: ${text}`)
}

async function consentApp (t: Test, options: BuildAppOptions = {}): Promise<{ app: FastifyInstance, clientId: string }> {
  const app = await buildAuthorizeApp(t, options)
  const created = await createCodeApplication(app, { name: 'Photo <script>alert(1)</script> printer' })
  return { app, clientId: created.application.clientId }
}

t.test('the consent page in French, app name escaped in the title and the heading', async (t) => {
  const { app, clientId } = await consentApp(t)
  const res = await getAuthorize(app, codeRequest(clientId), ALICE.id, FR)
  t.equal(res.statusCode, 200)
  assertFrench(t, res, ['Cette application souhaite\u00a0:', 'Annuler', '>Autoriser</button>'], 'consent')
  t.match(res.body, '<title>Autoriser Photo &lt;script&gt;alert(1)&lt;/script&gt; printer</title>')
  t.match(res.body, '<h1>Autoriser <span class="oat-app">Photo &lt;script&gt;alert(1)&lt;/script&gt; printer</span>\u202f?</h1>')
  t.notMatch(res.body, '<script>alert', 'never raw')
  t.match(res.body, 'name="allow" value="Authorize"', 'the submitted value is the protocol\'s, not the label')
  // The decision works from the French page as from the English one.
  const decided = await postDecision(app, parseConsent(res))
  t.equal(decided.statusCode, 302)
  t.match(String(decided.headers.location), /[?&]code=/)
})

t.test('English by default, with the same headers', async (t) => {
  const { app, clientId } = await consentApp(t)
  const res = await getAuthorize(app, codeRequest(clientId))
  t.match(res.body, /<html lang="en">/)
  t.equal(res.headers['content-language'], 'en')
  t.match(String(res.headers.vary), /Accept-Language/i)
  t.match(res.body, 'This application would like to:')
})

t.test('Accept-Language negotiation: q-values, ranges, wildcards, q=0; malformed headers never fail', async (t) => {
  const { app, clientId } = await consentApp(t)
  const cases: Array<[string, 'en' | 'fr']> = [
    ['fr-CA', 'fr'], ['fr-CA, en;q=0.5', 'fr'], ['de, fr;q=0.3, en;q=0.2', 'fr'], ['FR', 'fr'], ['en-GB, fr;q=0.9', 'en'],
    ['fr;q=0.1, en;q=0.9', 'en'], ['fr;q=0, *', 'en'], ['fr-CA;q=0, fr', 'fr'], ['*', 'en'], ['*;q=0.5, fr', 'fr'], ['de', 'en'],
    ['en;q=0, fr;q=0', 'en'], ['', 'en'],
    // Malformed: ignored entries, never an error.
    [';;;,,,', 'en'], ['fr;q=abc', 'en'], ['fr;q=', 'en'], [',,fr', 'fr'], ['q=1', 'en'], ['fr;;q=0.5;;', 'fr'], ['-', 'en'], ['fr-', 'en'],
    ['x'.repeat(4000), 'en'], [Array.from({ length: 500 }, (_, i) => `l${i};q=0.${i % 10}`).join(','), 'en'], ['\u00e9\u00e8', 'en'],
  ]
  for (const [header, lang] of cases) {
    const res = await getAuthorize(app, codeRequest(clientId), ALICE.id, { 'accept-language': header })
    t.equal(res.statusCode, 200, `${JSON.stringify(header.slice(0, 40))}: 200`)
    t.equal(res.headers['content-language'], lang, `${JSON.stringify(header.slice(0, 40))} → ${lang}`)
    t.match(res.body, `<html lang="${lang}">`)
  }
})

t.test('the error page, the form_post page and the HTML error handler in French', async (t) => {
  const { app, clientId } = await consentApp(t)
  const unknown = await getAuthorize(app, codeRequest('no-such-client'), ALICE.id, FR)
  t.equal(unknown.statusCode, 400)
  assertFrench(t, unknown, ['Erreur d’autorisation', 'Retournez-y et réessayez.'], 'error page')
  t.match(unknown.body, /<code>invalid_client<\/code>|<code>invalid_request<\/code>/, 'the protocol code is unchanged')

  const anonymousPost = await app.inject({ method: 'POST', url: '/o/authorize/', payload: form({ client_id: clientId }), headers: { ...FORM, ...FR } })
  assertFrench(t, anonymousPost, ['Vous n’êtes pas connecté.'], 'not logged in')

  const unparsable = await app.inject({ method: 'POST', url: '/o/authorize/', payload: '{', headers: { 'content-type': 'application/json', ...FR, ...asUser(ALICE.id) } })
  t.equal(unparsable.statusCode, 400)
  assertFrench(t, unparsable, ['La requête n’a pas pu être lue.'], 'HTML error handler')

  const skip = await createCodeApplication(app, { skipAuthorization: true })
  const formPost = await getAuthorize(app, codeRequest(skip, { response_mode: 'form_post' }), ALICE.id, FR)
  t.equal(formPost.statusCode, 200)
  assertFrench(t, formPost, ['Retour à l’application', 'Si rien ne se passe, continuez manuellement.', '>Continuer</button>'], 'form_post')
})

t.test('the device pages in French', async (t) => {
  const app = await buildDeviceApp(t)
  const created = await createDeviceApplication(app, { name: 'Télé <b>' })
  const { user_code: userCode } = await deviceCode(app, created, { scope: 'read' })
  const entry = await app.inject({ url: '/o/device/', headers: asUser(ALICE.id, FR) })
  assertFrench(t, entry, ['Connecter un appareil', 'Saisissez le code affiché sur votre appareil.', '>Continuer</button>'], 'device entry')
  const wrong = await app.inject({ method: 'POST', url: '/o/device/', payload: form({ csrf_token: pageForm(entry).csrfToken, user_code: 'BCDF-GHJK' }), headers: asUser(ALICE.id, { ...FORM, ...FR, cookie: pageForm(entry).cookie }) })
  t.equal(wrong.statusCode, 400)
  assertFrench(t, wrong, ['Ce code n’est pas valide.'], 'wrong code')
  const entered = await postForm(app, pageForm(entry), { user_code: userCode })
  t.equal(entered.statusCode, 302)
  const confirmUrl = String(entered.headers.location)
  const confirm = await app.inject({ url: confirmUrl, headers: asUser(ALICE.id, FR) })
  assertFrench(t, confirm, ['sur votre appareil\u202f?', 'Refuser'], 'device confirm')
  t.match(confirm.body, 'Télé &lt;b&gt;', 'escaped')
  const done = await app.inject({ method: 'POST', url: confirmUrl, payload: form({ csrf_token: pageForm(confirm).csrfToken, allow: 'Authorize' }), headers: asUser(ALICE.id, { ...FORM, ...FR, cookie: pageForm(confirm).cookie }) })
  assertFrench(t, done, ['Appareil connecté', 'est autorisé. Vous pouvez retourner sur votre appareil.'], 'device done')
  const missing = await app.inject({ url: '/o/device-confirm/999999/', headers: asUser(ALICE.id, FR) })
  t.equal(missing.statusCode, 404)
  assertFrench(t, missing, ['Aucune autorisation d’appareil ne vous attend.'], 'device 404')
})

t.test('the logout pages in French', async (t) => {
  const app = await buildOidcApp(t, { settings: { oidcRpInitiatedLogoutEnabled: true }, logoutUser: () => {} })
  const created = await createOidcApplication(app, { name: 'Agenda' })
  const page = await app.inject({ url: `/o/logout/?${form({ client_id: created.application.clientId })}`, headers: FR })
  t.equal(page.statusCode, 200)
  assertFrench(t, page, ['Se déconnecter\u202f?', 'Agenda vous demande de vous déconnecter.', '>Se déconnecter</button>', 'Annuler'], 'logout confirm')
  const action = unescapeHtml(/<form method="post" action="([^"]*)">/.exec(page.body)?.[1] ?? '')
  const csrf = unescapeHtml(/name="csrf_token" value="([^"]*)"/.exec(page.body)?.[1] ?? '')
  const forged = await app.inject({ method: 'POST', url: action, headers: { ...FORM, ...FR, cookie: csrfCookieOf(page) ?? '' }, payload: form({ csrf_token: 'forged' }) })
  t.equal(forged.statusCode, 403)
  assertFrench(t, forged, ['Le formulaire a expiré'], 'logout CSRF')
  const done = await app.inject({ method: 'POST', url: action, headers: { ...FORM, ...FR, cookie: csrfCookieOf(page) ?? '' }, payload: form({ csrf_token: csrf }) })
  t.equal(done.statusCode, 200)
  assertFrench(t, done, ['Vous êtes déconnecté', 'Vous pouvez fermer cette fenêtre.'], 'logged out')
})

t.test('the management pages in French', async (t) => {
  const app = await buildAuthorizeApp(t, { prefix: false })
  await app.register(oauthRoutes, { prefix: '/o', managementPages: true })
  const get = async (url: string): Promise<LightMyRequestResponse> => await app.inject({ url, headers: asUser(ALICE.id, FR) })
  assertFrench(t, await get('/o/applications/'), ['Vos applications', 'Aucune application pour le moment.', 'Nouvelle application'], 'empty list')
  const register = await get('/o/applications/register/')
  assertFrench(t, register, ['Enregistrer une nouvelle application', 'Type de client', 'URI de redirection', 'Une par ligne', '>non</option>', '>Enregistrer</button>'], 'register form')
  const { token, cookie } = { token: unescapeHtml(/name="csrf_token" value="([^"]*)"/.exec(register.body)?.[1] ?? ''), cookie: csrfCookieOf(register) ?? '' }
  const fields = { name: 'Imprimante <i>', clientType: 'confidential', authorizationGrantType: 'authorization-code', redirectUris: 'https://client.example.com/cb', postLogoutRedirectUris: '', allowedOrigins: '', algorithm: '' }
  const created = await app.inject({ method: 'POST', url: '/o/applications/register/', payload: form({ ...fields, csrf_token: token }), headers: asUser(ALICE.id, { ...FORM, ...FR, cookie }) })
  t.equal(created.statusCode, 200)
  assertFrench(t, created, ['Secret du client', 'copiez-le maintenant\u00a0:', 'Identifiant du client', 'Créée le', 'Régénérer le secret', 'ses propres jetons uniquement'], 'detail')
  t.match(created.body, /<time datetime="\d{4}-\d\d-\d\dT[^"]+Z">\d{1,2} [a-zéû]+ \d{4} à \d\d:\d\d UTC<\/time>/, 'a French date, machine-readable too')
  t.match(created.body, 'Imprimante &lt;i&gt;')
  const id = /href="\/o\/applications\/(\d+)\/update\/"/.exec(created.body)?.[1] ?? ''
  assertFrench(t, await get('/o/applications/'), ['1 application<', 'Imprimante <i>'], 'list')
  assertFrench(t, await get(`/o/applications/${id}/update/`), ['Modifier Imprimante <i>'], 'edit form')
  assertFrench(t, await get(`/o/applications/${id}/delete/`), ['Supprimer Imprimante <i>\u202f?', 'Cette action est irréversible.', '>Supprimer</button>'], 'delete confirm')
  const missing = await get('/o/applications/999999/')
  t.equal(missing.statusCode, 404)
  assertFrench(t, missing, ['Application introuvable.'], 'application 404')

  // Authorized tokens: a grant, listed with a French count and date, and its revoke page.
  const application = await app.oauth.store.findApplicationById(Number(id))
  const clientSecret = /id="client-secret">([^<]*)</.exec(created.body)?.[1] ?? ''
  if (application === null) throw new Error('the application was not created')
  await codeFlowTokens(app, { application, clientSecret }, { scope: 'read write' })
  const tokens = await get('/o/authorized-tokens/')
  t.equal(tokens.statusCode, 200)
  assertFrench(t, tokens, ['Applications autorisées', 'Révoquer'], 'tokens')
  t.match(tokens.body, /id="token-count">1 autorisation active</)
  t.match(tokens.body, /expire le <time datetime="[^"]+">\d{1,2} [a-zéû]+ \d{4} à \d\d:\d\d UTC<\/time>/)
  const revokeUrl = /href="(\/o\/authorized-tokens\/\d+\/delete\/)"/.exec(tokens.body)?.[1] ?? ''
  assertFrench(t, await get(revokeUrl), ['Révoquer l’accès de Imprimante <i>\u202f?', 'ne pourra plus agir en votre nom'], 'revoke confirm')
  const none = await get('/o/authorized-tokens/999999/delete/')
  assertFrench(t, none, ['Autorisation introuvable.'], 'token 404')
})

t.test('the staff pages in French: every page, error and notice; hostile names escaped; dates as <time>', async (t) => {
  const app = await buildAdminApp(t)
  const hostile = 'Photo <script>alert(1)</script> printer'
  const created = await createCodeApplication(app, { name: hostile })
  const id = created.application.id
  await codeFlowTokens(app, created)
  const get = async (url: string, user: string | null = STAFF): Promise<LightMyRequestResponse> => await app.inject({ url, headers: asUser(user, FR) })
  let cookie: string | undefined
  const post = async (url: string, fields: Record<string, string | readonly string[]>, page: LightMyRequestResponse): Promise<LightMyRequestResponse> => {
    // A page that reuses the CSRF cookie sets none: the last one set goes on.
    const state = formState(page, cookie)
    cookie = state.cookie
    return await app.inject({ method: 'POST', url, payload: form({ ...fields, csrf_token: state.token }), headers: asUser(STAFF, { ...FORM, ...FR, cookie: state.cookie }) })
  }
  const frenchDate = /<time datetime="\d{4}-\d\d-\d\dT[^"]+Z">\d{1,2} [a-zéû]+ \d{4} à \d\d:\d\d UTC<\/time>/

  const overview = await get('/o/admin/')
  t.equal(overview.statusCode, 200)
  assertFrench(t, overview, ['Vue d’ensemble', 'Jetons d’accès', 'Codes d’autorisation', 'Autorisations d’appareil', 'Jetons d’identité',
    'Chaque modification faite ici est enregistrée', `Équipe\u00a0: ${STAFF}`], 'overview')
  t.match(overview.body, '<nav class="oat-nav" aria-label="Sections de l’administration">')

  const list = await get('/o/admin/applications/?source=operator')
  assertFrench(t, list, ['Le nom ou l’identifiant du client contient', 'Effacer les filtres', '>Filtrer</button>', '>tous</option>',
    'Identifiant du client', 'Propriétaire', 'exploitant', 'enregistrement dynamique'], 'applications list')
  t.match(list.body, 'Photo &lt;script&gt;alert(1)&lt;/script&gt; printer', 'the hostile name is escaped in French too')
  t.notMatch(list.body, '<script>alert', 'never raw')
  t.match(list.body, frenchDate, 'the created date in French, machine-readable too')
  assertFrench(t, await get('/o/admin/applications/?q=nothing-matches-this'), ['Aucun résultat.'], 'empty list')

  const detail = await get(`/o/admin/applications/${id}/`)
  assertFrench(t, detail, ['Propriétaire (identifiant de l’utilisateur)', 'Saute la page de consentement', '>non</dd>', 'Émis pour cette application',
    'Toutes les applications', 'Régénérer le secret', 'Créée le'], 'application detail')
  t.match(detail.body, `<title>${'Photo &lt;script&gt;alert(1)&lt;/script&gt; printer'} · Administration</title>`)
  t.notMatch(detail.body, '<script>alert')
  t.match(detail.body, frenchDate)

  const edit = await get(`/o/admin/applications/${id}/update/`)
  assertFrench(t, edit, ['Modifier Photo <script>alert(1)</script> printer (équipe)', 'Sauter la page de consentement', 'Exiger DPoP',
    'RFC 9126\u00a0: demandes d’autorisation uniquement par par/.', 'Type de client'], 'staff edit form')
  t.notMatch(edit.body, '<script>alert')
  const saved = await post(`/o/admin/applications/${id}/update/`, { ...formFields(edit.body), skipAuthorization: 'yes' }, edit)
  t.equal(saved.statusCode, 303)
  assertFrench(t, await get(saved.headers.location ?? ''), ['Enregistré.', '>oui</dd>'], 'saved notice')
  assertFrench(t, await get(`/o/admin/applications/${id}/regenerate-secret/`), ['Régénérer le secret de Photo <script>alert(1)</script> printer\u202f?', '>Régénérer</button>', '>Annuler</a>'], 'regenerate confirmation')
  assertFrench(t, await get(`/o/admin/applications/${id}/delete/`), ['Supprimer Photo <script>alert(1)</script> printer\u202f?', 'Cette action est irréversible.'], 'delete confirmation')

  const tokens = await get('/o/admin/access-tokens/')
  assertFrench(t, tokens, ['Identifiant de l’application', 'Portée', 'Expiration', 'Sélection', 'Sélectionner la ligne', '>Révoquer la sélection</button>'], 'access tokens')
  t.match(tokens.body, 'Photo &lt;script&gt;alert(1)&lt;/script&gt; printer</a>')
  t.match(tokens.body, frenchDate)
  const tokenId = /name="id" value="(\d+)"/.exec(tokens.body)?.[1] ?? ''
  const confirm = await post('/o/admin/access-tokens/action/', { id: tokenId }, tokens)
  assertFrench(t, confirm, ['Révoquer les jetons d’accès sélectionnés\u202f?', `Identifiants sélectionnés\u00a0: ${tokenId}`, 'RFC 7009 §2.1'], 'bulk confirmation')
  const done = await post('/o/admin/access-tokens/action/', { id: tokenId, confirm: 'yes' }, confirm)
  t.equal(done.statusCode, 303)
  assertFrench(t, await get(done.headers.location ?? ''), ['Modifiés\u00a0: 1 sur 1 sélectionnés.'], 'done notice')
  assertFrench(t, await get('/o/admin/refresh-tokens/'), ['Jetons de rafraîchissement', 'Famille', 'révoqué ou remplacé le'], 'refresh tokens')

  // Errors: a bad filter, an unknown application, a bad selection, a forged form, non-staff.
  const bad = await get('/o/admin/applications/?source=<b>x</b>')
  t.equal(bad.statusCode, 400)
  assertFrench(t, bad, ['source doit être l’une des valeurs suivantes\u00a0: operator, self-registered, dynamic, cimd.'], 'bad filter')
  const missing = await get('/o/admin/applications/999999/')
  t.equal(missing.statusCode, 404)
  assertFrench(t, missing, ['Application introuvable.'], 'unknown application')
  const none = await post('/o/admin/access-tokens/action/', {}, tokens)
  t.equal(none.statusCode, 400)
  assertFrench(t, none, ['Sélectionnez au moins une ligne.'], 'nothing selected')
  const forged = await app.inject({ method: 'POST', url: '/o/admin/access-tokens/action/', payload: form({ id: tokenId, csrf_token: 'forged' }), headers: asUser(STAFF, { ...FORM, ...FR }) })
  t.equal(forged.statusCode, 403)
  assertFrench(t, forged, ['Le formulaire a expiré ou ne provient pas de ce site.'], 'forged form')
  const outsider = await get('/o/admin/', ALICE.id)
  t.equal(outsider.statusCode, 403)
  assertFrench(t, outsider, ['Ces pages sont réservées à l’équipe.'], 'not staff')
})

t.test('the staff pages stay English by default, with the same headers', async (t) => {
  const app = await buildAdminApp(t)
  await createCodeApplication(app)
  const res = await app.inject({ url: '/o/admin/applications/', headers: asUser(STAFF) })
  t.match(res.body, '<html lang="en">')
  t.equal(res.headers['content-language'], 'en')
  t.match(String(res.headers.vary), /Accept-Language/i)
  t.match(res.body, 'Name or client id contains')
  t.match(res.body, /<time datetime="[^"]+Z">[A-Z][a-z]+ \d{1,2}, \d{4}/, 'dates in English, machine-readable too')
})

/** The values of the text inputs, selects and textareas of a form page (to post it back). */
function formFields (body: string): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const [, name, value] of body.matchAll(/<input type="text" id="[^"]*" name="([^"]*)" value="([^"]*)"/g)) fields[name ?? ''] = unescapeHtml(value ?? '')
  for (const [, name, value] of body.matchAll(/<textarea id="[^"]*" name="([^"]*)"[^>]*>([^<]*)<\/textarea>/g)) fields[name ?? ''] = unescapeHtml(value ?? '')
  for (const [, name, options] of body.matchAll(/<select id="[^"]*" name="([^"]*)"[^>]*>([\s\S]*?)<\/select>/g)) {
    fields[name ?? ''] = unescapeHtml(/<option value="([^"]*)" selected>/.exec(options ?? '')?.[1] ?? '')
  }
  return fields
}

t.test('the host adds a language, overrides a message and restricts the languages', async (t) => {
  const { app, clientId } = await consentApp(t, {
    i18n: { messages: { de: { 'consent.intro': 'Diese Anwendung möchte:', 'consent.allow': 'Erlauben' }, en: { 'consent.intro': 'This app <b>asks</b> to:' } } },
  })
  const de = await getAuthorize(app, codeRequest(clientId), ALICE.id, { 'accept-language': 'de-AT, fr;q=0.5' })
  t.match(de.body, '<html lang="de">')
  t.equal(de.headers['content-language'], 'de')
  t.match(de.body, 'Diese Anwendung möchte:')
  t.match(de.body, '>Erlauben</button>')
  t.match(de.body, '>Cancel</button>', 'a key German lacks shows in English')
  const en = await getAuthorize(app, codeRequest(clientId), ALICE.id, { 'accept-language': 'en' })
  t.match(en.body, '<p>This app &lt;b&gt;asks&lt;/b&gt; to:</p>', 'an override is text too: escaped, never markup')
  const fr = await getAuthorize(app, codeRequest(clientId), ALICE.id, FR)
  t.match(fr.body, 'Cette application souhaite', 'French keeps its own message')

  const englishOnly = await consentApp(t, { i18n: { languages: ['en'] } })
  const res = await getAuthorize(englishOnly.app, codeRequest(englishOnly.clientId), ALICE.id, FR)
  t.match(res.body, '<html lang="en">')
  t.equal(res.headers['content-language'], 'en')
})

t.test('resolveLocale decides before Accept-Language; null leaves it to the browser; a throw is a page, in the default language', async (t) => {
  const resolveLocale = (request: FastifyRequest): string | null => {
    const lang = request.headers['x-lang']
    if (lang === 'boom') throw new Error('session store down')
    return typeof lang === 'string' ? lang : null
  }
  const { app, clientId } = await consentApp(t, { i18n: { resolveLocale } })
  const chosen = await getAuthorize(app, codeRequest(clientId), ALICE.id, { 'x-lang': 'fr-CA', 'accept-language': 'en' })
  t.equal(chosen.headers['content-language'], 'fr', 'the host\'s fr-CA is French')
  const unknown = await getAuthorize(app, codeRequest(clientId), ALICE.id, { 'x-lang': 'ja', 'accept-language': 'fr' })
  t.equal(unknown.headers['content-language'], 'fr', 'a language not offered falls to Accept-Language')
  const browser = await getAuthorize(app, codeRequest(clientId), ALICE.id, FR)
  t.equal(browser.headers['content-language'], 'fr')
  const failing = await getAuthorize(app, codeRequest(clientId), ALICE.id, { 'x-lang': 'boom', 'accept-language': 'fr' })
  t.equal(failing.statusCode, 500)
  t.match(failing.headers['content-type'], /^text\/html/)
  t.match(failing.body, '<html lang="en">')
  t.match(failing.body, '<code>server_error</code>')
})

t.test('a replaced template still works and gets the negotiated messages', async (t) => {
  const { app, clientId } = await consentApp(t, {
    templates: { consent: (data, page) => `<!doctype html><html lang="${page.messages?.locale ?? 'en'}"><p>${page.messages?.text('consent.allow') ?? 'Authorize'}: ${data.applicationName.length}</p></html>` },
  })
  const res = await getAuthorize(app, codeRequest(clientId), ALICE.id, FR)
  t.equal(res.statusCode, 200)
  t.match(res.body, '<html lang="fr"><p>Autoriser: ')
  t.equal(res.headers['content-language'], 'fr')
})

t.test('bad i18n options fail registration with one line', async (t) => {
  for (const [i18n, message] of [
    [{ resolveLocale: 'fr' }, /`i18n.resolveLocale` must be a function/],
    [{ langs: ['fr'] }, /i18n/],
    [{ messages: { fr: { 'consent.heading': 'Autoriser {application}' } } }, /uses \{application\}/],
    [[], /`i18n` must be an object/],
  ] as const) {
    await t.rejects(buildAuthorizeApp(t, { i18n: i18n as never }), message)
  }
})
