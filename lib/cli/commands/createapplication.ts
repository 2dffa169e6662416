import { ApplicationValidationError, type CreatedApplication } from '../../applications.js'
import { APPLICATION_GRANT_TYPES, type TokenEndpointAuthMethod } from '../../store/types.js'
import { booleanOption, CliUsageError, stringOption } from '../args.js'
import { DATABASE_OPTION, defineCommand, EXIT, HELP_OPTION, PROGRAM, SETTINGS_OPTION, table, type CliIo } from '../command.js'
import { adminServer, loadSettings } from '../config.js'
import { openMigratedStore, resolveDatabaseUrl } from '../database.js'

/** How each field of `ApplicationValidationError` is spelled on the command line. */
const FIELD_ARGUMENT: Readonly<Record<string, string>> = {
  clientType: 'client_type',
  authorizationGrantType: 'grant_type',
  name: '--name',
  redirectUris: '--redirect-uris',
  postLogoutRedirectUris: '--post-logout-redirect-uris',
  allowedOrigins: '--allowed-origins',
  clientId: '--client-id',
  clientSecret: '--client-secret',
  skipAuthorization: '--skip-authorization',
  userId: '--user',
  algorithm: '--algorithm',
  allowIntrospection: '--allow-introspection',
  selfRegistered: '--self-registered',
  tokenEndpointAuthMethod: '--token-endpoint-auth-method',
  jwks: '--jwks',
  jwksUri: '--jwks-uri',
  tokenEndpointAuthSigningAlg: '--token-endpoint-auth-signing-alg',
  dpopBoundAccessTokens: '--dpop-bound-access-tokens',
  requireSignedRequestObject: '--require-signed-request-object',
  requestObjectSigningAlg: '--request-object-signing-alg',
  userinfoSignedResponseAlg: '--userinfo-signed-response-alg',
  backchannelLogoutUri: '--backchannel-logout-uri',
  backchannelLogoutSessionRequired: '--backchannel-logout-session-required',
}

/** The `--json` output: the application with DOT's field names, and the secret in clear. */
function toJson ({ application: app, clientSecret }: CreatedApplication): string {
  return JSON.stringify({
    id: app.id,
    client_id: app.clientId,
    client_secret: clientSecret,
    client_type: app.clientType,
    authorization_grant_type: app.authorizationGrantType,
    name: app.name,
    redirect_uris: app.redirectUris,
    post_logout_redirect_uris: app.postLogoutRedirectUris,
    allowed_origins: app.allowedOrigins,
    skip_authorization: app.skipAuthorization,
    algorithm: app.algorithm,
    allow_introspection: app.allowIntrospection,
    self_registered: app.selfRegistered,
    token_endpoint_auth_method: app.tokenEndpointAuthMethod,
    jwks: app.jwks === '' ? null : JSON.parse(app.jwks) as unknown,
    jwks_uri: app.jwksUri,
    token_endpoint_auth_signing_alg: app.tokenEndpointAuthSigningAlg,
    dpop_bound_access_tokens: app.dpopBoundAccessTokens,
    require_signed_request_object: app.requireSignedRequestObject,
    request_object_signing_alg: app.requestObjectSigningAlg,
    userinfo_signed_response_alg: app.userinfoSignedResponseAlg,
    backchannel_logout_uri: app.backchannelLogoutUri,
    backchannel_logout_session_required: app.backchannelLogoutSessionRequired,
    user: app.userId,
    created: app.createdAt.toISOString(),
  }) + '\n'
}

/** The human summary. A generated secret is printed with a warning; a supplied one is not echoed. */
function toText ({ application: app, clientSecret }: CreatedApplication, secretSupplied: boolean): string {
  const secret = clientSecret === null
    ? app.clientType === 'public' ? '(none: public client)' : '(none: it authenticates with private_key_jwt)'
    : secretSupplied ? '(the one you supplied; stored hashed)' : clientSecret
  const rows: Array<[string, string]> = [
    ['client_id:', app.clientId],
    ['client_secret:', secret],
    ['client_type:', app.clientType],
    ['grant_type:', app.authorizationGrantType],
  ]
  if (app.redirectUris.length > 0) rows.push(['redirect_uris:', app.redirectUris.join(' ')])
  if (app.postLogoutRedirectUris.length > 0) rows.push(['post_logout_redirect_uris:', app.postLogoutRedirectUris.join(' ')])
  if (app.allowedOrigins.length > 0) rows.push(['allowed_origins:', app.allowedOrigins.join(' ')])
  if (app.skipAuthorization) rows.push(['skip_authorization:', 'yes'])
  if (app.algorithm !== '') rows.push(['algorithm:', app.algorithm])
  if (app.tokenEndpointAuthMethod !== '') rows.push(['token_endpoint_auth_method:', app.tokenEndpointAuthMethod])
  if (app.jwks !== '') rows.push(['jwks:', `${(JSON.parse(app.jwks) as { keys: unknown[] }).keys.length} public key(s)`])
  if (app.jwksUri !== '') rows.push(['jwks_uri:', app.jwksUri])
  if (app.tokenEndpointAuthSigningAlg !== '') rows.push(['token_endpoint_auth_signing_alg:', app.tokenEndpointAuthSigningAlg])
  if (app.allowIntrospection) rows.push(['allow_introspection:', 'yes (may introspect every client\'s access tokens)'])
  if (app.dpopBoundAccessTokens) rows.push(['dpop_bound_access_tokens:', 'yes (every token request must carry a DPoP proof)'])
  if (app.requireSignedRequestObject) rows.push(['require_signed_request_object:', 'yes (authorization requests must be signed request objects)'])
  if (app.requestObjectSigningAlg !== '') rows.push(['request_object_signing_alg:', app.requestObjectSigningAlg])
  if (app.userinfoSignedResponseAlg !== '') rows.push(['userinfo_signed_response_alg:', app.userinfoSignedResponseAlg])
  if (app.backchannelLogoutUri !== '') rows.push(['backchannel_logout_uri:', app.backchannelLogoutUri])
  if (app.backchannelLogoutSessionRequired) rows.push(['backchannel_logout_session_required:', 'yes'])
  if (app.selfRegistered) rows.push(['self_registered:', 'yes (redirect URIs unvetted: early authorization errors are shown, not redirected)'])
  if (app.userId !== null) rows.push(['user:', app.userId])
  const label = app.name === '' ? `${app.id}` : `"${app.name}" (id ${app.id})`
  const lines = [`New application ${label} created successfully.`, ...table(rows)]
  if (clientSecret !== null && !secretSupplied) {
    lines.push('', 'Copy the client secret now: it is shown only this once. Only its hash is stored, so it cannot be recovered later.')
  }
  return lines.join('\n') + '\n'
}

// Departs from DOT, which prints validation errors on stdout and exits 0: scripts must see failure.
function reportInvalid (err: ApplicationValidationError, io: CliIo): number {
  const rows = Object.entries(err.fields).map(([field, message]): [string, string] => [`${FIELD_ARGUMENT[field] ?? field}:`, message])
  io.stderr.write([`${PROGRAM} createapplication: the application is invalid:`, ...table(rows), ''].join('\n'))
  return EXIT.usage
}

/** `createapplication`: DOT's management command, registering one application and printing its secret once. */
export const createApplicationCommand = defineCommand({
  name: 'createapplication',
  summary: 'Register an OAuth application (client) and print its secret once',
  description: 'Registers an application after validating every field (DOT\'s createapplication). The\n' +
    'generated client secret is printed once: only its hash is stored (and, for HS256, a copy\n' +
    'sealed under the key in OAT_CLIENT_SECRET_SEALING_KEY, as client_secret_jwt needs too).\n' +
    'A private_key_jwt client gets no secret: it signs assertions with its key. Validation errors are listed on\n' +
    'stderr, one per field, with exit code 2.',
  positionals: [
    { name: 'client_type', description: 'confidential or public' },
    { name: 'grant_type', description: APPLICATION_GRANT_TYPES.join(', ') },
  ],
  options: {
    name: stringOption('name', 'Human-readable name of the application'),
    'redirect-uris': stringOption('uris', 'Space-separated redirect URIs (required for authorization-code, implicit, openid-hybrid)'),
    'post-logout-redirect-uris': stringOption('uris', 'Space-separated post-logout redirect URIs (OpenID Connect)'),
    'allowed-origins': stringOption('origins', 'Space-separated origins allowed to call the token endpoints from a browser'),
    'client-id': stringOption('id', 'Client id to use (default: 40 random characters)'),
    'client-secret': stringOption('secret', 'Client secret to use (default: clientSecretGeneratorLength random characters)'),
    'skip-authorization': booleanOption('Do not ask users for consent'),
    user: stringOption('id', 'Id of the user who owns the application'),
    algorithm: stringOption('alg', 'ID token signing algorithm: \'\' (the server\'s default), RS256, PS256, ES256, EdDSA (the server needs a key for it), or HS256 (confidential only; needs OAT_CLIENT_SECRET_SEALING_KEY)'),
    'allow-introspection': booleanOption('Make it a resource server: it may introspect every client\'s access tokens and obtain the introspection scope (confidential only)'),
    'token-endpoint-auth-method': stringOption('method', 'The only client authentication accepted: client_secret_basic, client_secret_post, ' +
      'private_key_jwt (needs --jwks or --jwks-uri; no secret), client_secret_jwt (needs OAT_CLIENT_SECRET_SEALING_KEY) or none (default: any)'),
    jwks: stringOption('json', 'The client\'s public keys as a JWK Set (JSON text), for private_key_jwt'),
    'jwks-uri': stringOption('url', 'https URL of the client\'s JWK Set, for private_key_jwt (not with --jwks)'),
    'token-endpoint-auth-signing-alg': stringOption('alg', 'The one JWS algorithm the client\'s assertions may use (default: any the server accepts)'),
    'self-registered': booleanOption('Treat it as an end user\'s client with unvetted redirect URIs: authorization errors before approval are shown, never redirected'),
    'dpop-bound-access-tokens': booleanOption('RFC 9449: refuse this client\'s token requests without a DPoP proof (its tokens are always DPoP-bound)'),
    'require-signed-request-object': booleanOption('RFC 9101: accept this client\'s authorization requests only as signed request objects (needs --jwks, --jwks-uri or a sealed secret)'),
    'request-object-signing-alg': stringOption('alg', 'The one JWS algorithm the client\'s request objects may use (default: any the server accepts; HS256/384/512 need a sealed secret)'),
    'userinfo-signed-response-alg': stringOption('alg', 'OpenID Connect: answer UserInfo as a JWT signed with RS256, PS256, ES256 or EdDSA (the server needs a key for it; default: plain JSON)'),
    'backchannel-logout-uri': stringOption('url', 'OpenID Connect Back-Channel Logout: https URL (no fragment) the server POSTs logout tokens to when a user\'s session ends'),
    'backchannel-logout-session-required': booleanOption('Back-Channel Logout: the client needs sid in logout tokens (always sent)'),
    json: booleanOption('Print the application and its secret as one JSON object on stdout'),
    database: DATABASE_OPTION,
    settings: SETTINGS_OPTION,
    help: HELP_OPTION,
  },
  async run ({ values, positionals }, { io, deps }) {
    const url = resolveDatabaseUrl(values.database, io.env, 'createapplication')
    if (values.user === '') throw new CliUsageError('option \'--user\' must not be empty', 'createapplication')
    const settings = loadSettings(values.settings)
    const opened = await openMigratedStore(url)
    let created: CreatedApplication
    try {
      created = await adminServer(opened.store, settings, deps, io.env).createApplication({
        clientType: positionals[0] ?? '',
        authorizationGrantType: positionals[1] ?? '',
        name: values.name,
        redirectUris: values['redirect-uris'],
        postLogoutRedirectUris: values['post-logout-redirect-uris'],
        allowedOrigins: values['allowed-origins'],
        clientId: values['client-id'],
        clientSecret: values['client-secret'],
        skipAuthorization: values['skip-authorization'] === true,
        userId: values.user ?? null,
        algorithm: values.algorithm,
        allowIntrospection: values['allow-introspection'] === true,
        selfRegistered: values['self-registered'] === true,
        // Validated with the rest (an unknown method is a field error, not a crash).
        ...(values['token-endpoint-auth-method'] === undefined ? {} : { tokenEndpointAuthMethod: values['token-endpoint-auth-method'] as TokenEndpointAuthMethod }),
        ...(values.jwks === undefined ? {} : { jwks: values.jwks }),
        ...(values['jwks-uri'] === undefined ? {} : { jwksUri: values['jwks-uri'] }),
        ...(values['token-endpoint-auth-signing-alg'] === undefined ? {} : { tokenEndpointAuthSigningAlg: values['token-endpoint-auth-signing-alg'] }),
        dpopBoundAccessTokens: values['dpop-bound-access-tokens'] === true,
        requireSignedRequestObject: values['require-signed-request-object'] === true,
        ...(values['request-object-signing-alg'] === undefined ? {} : { requestObjectSigningAlg: values['request-object-signing-alg'] }),
        ...(values['userinfo-signed-response-alg'] === undefined ? {} : { userinfoSignedResponseAlg: values['userinfo-signed-response-alg'] }),
        ...(values['backchannel-logout-uri'] === undefined ? {} : { backchannelLogoutUri: values['backchannel-logout-uri'] }),
        backchannelLogoutSessionRequired: values['backchannel-logout-session-required'] === true,
      }, { source: 'cli' })
    } catch (err) {
      if (err instanceof ApplicationValidationError) return reportInvalid(err, io)
      throw err
    } finally {
      await opened.close()
    }
    io.stdout.write(values.json === true ? toJson(created) : toText(created, values['client-secret'] !== undefined))
    return EXIT.ok
  },
})
