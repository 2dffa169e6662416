import { randomBytes } from 'node:crypto'
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose'
import { booleanOption, CliUsageError } from '../args.js'
import { defineCommand, EXIT, HELP_OPTION } from '../command.js'

/** RSA modulus of generated keys, bits (RFC 7518 §3.3: at least 2048). */
const MODULUS_BITS = 2048

/** `generatekey`: prints a new RSA private key for signing ID tokens (RS256). */
export const generateKeyCommand = defineCommand({
  name: 'generatekey',
  summary: 'Print a new RSA private key for signing OpenID Connect ID tokens',
  description: `Generates a ${MODULUS_BITS}-bit RSA key for RS256 and prints it as a PKCS#8 PEM (or, with --jwk,\n` +
    'as a private JWK). Store it as a secret and pass it to the plugin as `oidc: { privateKey }`.\n' +
    'To rotate, generate a new key, make it the privateKey and move the old one to\n' +
    '`oidc.inactiveKeys` until the ID tokens it signed have expired. Nothing is written to disk.\n' +
    'With --sealing it prints 32 random bytes (base64url) instead: a key for the\n' +
    '`clientSecretSealingKey` option (OAT_CLIENT_SECRET_SEALING_KEY for the CLI) that lets\n' +
    'HS256 applications keep their client secret sealed.',
  positionals: [],
  options: {
    jwk: booleanOption('Print a private JWK (JSON) instead of a PEM'),
    sealing: booleanOption('Print a 256-bit client-secret sealing key (base64url) instead'),
    help: HELP_OPTION,
  },
  async run ({ values }, { io }) {
    if (values.sealing === true) {
      if (values.jwk === true) throw new CliUsageError('--sealing and --jwk do not go together', 'generatekey')
      io.stdout.write(`${randomBytes(32).toString('base64url')}\n`)
      return EXIT.ok
    }
    const { privateKey } = await generateKeyPair('RS256', { modulusLength: MODULUS_BITS, extractable: true })
    io.stdout.write(values.jwk === true ? `${JSON.stringify(await exportJWK(privateKey))}\n` : await exportPKCS8(privateKey) + '\n')
    return EXIT.ok
  },
})
