import { randomBytes } from 'node:crypto'
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose'
import { SIGNING_KEY_ALGORITHMS, type SigningKeyAlgorithm } from '../../tokens/signing-keys.js'
import { booleanOption, CliUsageError, stringOption } from '../args.js'
import { defineCommand, EXIT, HELP_OPTION } from '../command.js'

/** RSA modulus of generated keys, bits (RFC 7518 §3.3: at least 2048). */
const MODULUS_BITS = 2048

/** The key each algorithm takes, for the help text. */
const KINDS = `RS256 and PS256: ${MODULUS_BITS}-bit RSA; ES256: EC P-256; EdDSA: Ed25519`

/** `generatekey`: prints a new private key for signing ID tokens and JWT access tokens (or a sealing key). */
export const generateKeyCommand = defineCommand({
  name: 'generatekey',
  summary: 'Print a new private key for signing OpenID Connect ID tokens (RS256, PS256, ES256, EdDSA), or with --sealing a client-secret sealing key',
  description: 'Generates a private key for --alg (default RS256) and prints it as a PKCS#8 PEM (or, with\n' +
    `--jwk, as a private JWK carrying its "alg"). ${KINDS}.\n` +
    'Store it as a secret and pass it to the plugin: an RS256 key as `oidc: { privateKey }`, any key\n' +
    'as `oidc: { signingKeys: [{ alg, privateKey }] }`. To rotate, generate a new key for the same\n' +
    'algorithm, make it the active one and move the old one to `oidc.inactiveKeys` until the tokens\n' +
    'it signed have expired (docs/oidc.md). Nothing is written to disk.\n' +
    'With --sealing it prints 32 random bytes (base64url) instead: a key for the\n' +
    '`clientSecretSealingKey` option (OAT_CLIENT_SECRET_SEALING_KEY for the CLI) that lets\n' +
    'HS256 applications keep their client secret sealed.',
  positionals: [],
  options: {
    alg: stringOption('alg', `The algorithm the key is for: ${SIGNING_KEY_ALGORITHMS.join(', ')} (default RS256)`),
    jwk: booleanOption('Print a private JWK (JSON) instead of a PEM'),
    sealing: booleanOption('Print a 256-bit client-secret sealing key (base64url) instead'),
    help: HELP_OPTION,
  },
  async run ({ values }, { io }) {
    if (values.sealing === true) {
      if (values.jwk === true || values.alg !== undefined) throw new CliUsageError(`--sealing and --${values.jwk === true ? 'jwk' : 'alg'} do not go together`, 'generatekey')
      io.stdout.write(`${randomBytes(32).toString('base64url')}\n`)
      return EXIT.ok
    }
    const alg = values.alg ?? 'RS256'
    if (!(SIGNING_KEY_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new CliUsageError(`option '--alg' must be one of ${SIGNING_KEY_ALGORITHMS.join(', ')}`, 'generatekey')
    }
    const { privateKey } = await generateKeyPair(alg as SigningKeyAlgorithm, alg === 'EdDSA'
      ? { crv: 'Ed25519', extractable: true }
      : { modulusLength: MODULUS_BITS, extractable: true })
    // The JWK names its algorithm, so `inactiveKeys` takes it for what it is (a PS256 key included).
    io.stdout.write(values.jwk === true ? `${JSON.stringify({ ...await exportJWK(privateKey), alg })}\n` : await exportPKCS8(privateKey) + '\n')
    return EXIT.ok
  },
})
