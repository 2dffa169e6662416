import { readFileSync } from 'node:fs'
import t from 'tap'
import { cli, REPO_ROOT } from './helpers.js'

const COMMANDS = ['migrate', 'createapplication', 'cleartokens', 'clearcimdapplications', 'check'] as const

t.test('no arguments prints the usage on stderr and exits 2', async (t) => {
  const r = await cli([])
  t.equal(r.code, 2)
  t.equal(r.stdout, '')
  t.match(r.stderr, /^Usage: fastify-oauth-toolkit <command> \[options\]/)
})

for (const argv of [['--help'], ['-h'], ['help']]) {
  t.test(`${argv.join(' ')} prints the top-level usage on stdout and exits 0`, async (t) => {
    const r = await cli(argv)
    t.equal(r.code, 0)
    t.equal(r.stderr, '')
    t.match(r.stdout, /^Usage: fastify-oauth-toolkit <command> \[options\]/)
    for (const name of COMMANDS) t.match(r.stdout, new RegExp(`^  ${name} +\\S`, 'm'))
    t.match(r.stdout, /DATABASE_URL/)
  })
}

t.test('--version prints the package version', async (t) => {
  const { version } = JSON.parse(readFileSync(`${REPO_ROOT}/package.json`, 'utf8')) as { version: string }
  const r = await cli(['--version'])
  t.same(r, { code: 0, stdout: `${version}\n`, stderr: '' })
})

for (const name of COMMANDS) {
  for (const flag of ['--help', '-h']) {
    t.test(`${name} ${flag} prints the command's usage on stdout and exits 0`, async (t) => {
      const r = await cli([name, flag])
      t.equal(r.code, 0)
      t.equal(r.stderr, '')
      t.match(r.stdout, new RegExp(`^Usage: fastify-oauth-toolkit ${name}`))
      t.match(r.stdout, /^ {2}--database <path\|url> +SQLite file path, .*; or postgres:\/\//m)
      t.match(r.stdout, /^ {2}-h, --help +Show this help/m)
    })
  }
  t.test(`help ${name} is the same as ${name} --help`, async (t) => {
    t.same(await cli(['help', name]), await cli([name, '--help']))
  })
  t.test(`${name} --help wins over other, even invalid, arguments and needs no database`, async (t) => {
    const r = await cli([name, 'extra', '--bogus', '--help'])
    t.equal(r.code, 0)
    t.match(r.stdout, /^Usage:/)
  })
}

t.test('createapplication --help documents DOT\'s arguments and every grant type', async (t) => {
  const { stdout } = await cli(['createapplication', '--help'])
  t.match(stdout, 'Usage: fastify-oauth-toolkit createapplication <client_type> <grant_type> [options]')
  for (const option of ['--name <name>', '--redirect-uris <uris>', '--post-logout-redirect-uris <uris>', '--allowed-origins <origins>',
    '--client-id <id>', '--client-secret <secret>', '--skip-authorization', '--user <id>', '--algorithm <alg>', '--json', '--settings <file>']) {
    t.match(stdout, `  ${option} `)
  }
  for (const grant of ['authorization-code', 'implicit', 'password', 'client-credentials', 'openid-hybrid', 'urn:ietf:params:oauth:grant-type:device_code']) {
    t.match(stdout, grant)
  }
})

const usageErrors: Array<[string, string[], string]> = [
  ['an unknown command', ['createapp'], "fastify-oauth-toolkit: unknown command 'createapp'; commands: migrate, createapplication, cleartokens, clearcimdapplications, generatekey, check\nRun 'fastify-oauth-toolkit --help' for usage.\n"],
  ['help on an unknown command', ['help', 'nope'], "fastify-oauth-toolkit: unknown command 'nope'\nRun 'fastify-oauth-toolkit --help' for usage.\n"],
  ['an option before the command', ['--database', 'x.db', 'migrate'], "fastify-oauth-toolkit: unknown option '--database' (options go after the command)\nRun 'fastify-oauth-toolkit --help' for usage.\n"],
  ['an unknown option', ['migrate', '--bogus'], "fastify-oauth-toolkit migrate: unknown option '--bogus'\nRun 'fastify-oauth-toolkit migrate --help' for usage.\n"],
  ['an unknown short option', ['cleartokens', '-x'], "fastify-oauth-toolkit cleartokens: unknown option '-x'\nRun 'fastify-oauth-toolkit cleartokens --help' for usage.\n"],
  ['DOT\'s --no-hash-client-secret (secrets are always hashed)', ['createapplication', 'confidential', 'password', '--no-hash-client-secret'],
    "fastify-oauth-toolkit createapplication: unknown option '--no-hash-client-secret'\nRun 'fastify-oauth-toolkit createapplication --help' for usage.\n"],
  ['a missing first argument', ['createapplication'], "fastify-oauth-toolkit createapplication: missing argument <client_type>\nRun 'fastify-oauth-toolkit createapplication --help' for usage.\n"],
  ['a missing second argument', ['createapplication', 'public'], "fastify-oauth-toolkit createapplication: missing argument <grant_type>\nRun 'fastify-oauth-toolkit createapplication --help' for usage.\n"],
  ['an extra argument', ['createapplication', 'public', 'implicit', 'more'], "fastify-oauth-toolkit createapplication: unexpected argument 'more'\nRun 'fastify-oauth-toolkit createapplication --help' for usage.\n"],
  ['an argument to migrate', ['migrate', 'now'], "fastify-oauth-toolkit migrate: unexpected argument 'now'\nRun 'fastify-oauth-toolkit migrate --help' for usage.\n"],
  ['an option without its value', ['migrate', '--database'], "fastify-oauth-toolkit migrate: option '--database <path|url>' needs a value (write --database=<value> for one starting with '-')\nRun 'fastify-oauth-toolkit migrate --help' for usage.\n"],
  ['an option followed by another option', ['createapplication', 'public', 'implicit', '--name', '--json'],
    "fastify-oauth-toolkit createapplication: option '--name <name>' needs a value (write --name=<value> for one starting with '-')\nRun 'fastify-oauth-toolkit createapplication --help' for usage.\n"],
  ['a value given to a flag', ['cleartokens', '--json=yes'], "fastify-oauth-toolkit cleartokens: option '--json' takes no value\nRun 'fastify-oauth-toolkit cleartokens --help' for usage.\n"],
  ['a repeated option', ['migrate', '--database', 'a.db', '--database', 'b.db'], "fastify-oauth-toolkit migrate: option '--database' was given more than once\nRun 'fastify-oauth-toolkit migrate --help' for usage.\n"],
  ['no database at all', ['migrate'], "fastify-oauth-toolkit migrate: no database: pass --database <path|url> or set DATABASE_URL\nRun 'fastify-oauth-toolkit migrate --help' for usage.\n"],
  ['an empty --database', ['cleartokens', '--database='], "fastify-oauth-toolkit cleartokens: option '--database' must not be empty\nRun 'fastify-oauth-toolkit cleartokens --help' for usage.\n"],
  ['an empty --user', ['createapplication', 'confidential', 'password', '--user=', '--database', 'x.db'],
    "fastify-oauth-toolkit createapplication: option '--user' must not be empty\nRun 'fastify-oauth-toolkit createapplication --help' for usage.\n"],
]
for (const [name, argv, stderr] of usageErrors) {
  t.test(`${name} is a usage error: one message on stderr, exit 2`, async (t) => {
    t.same(await cli(argv), { code: 2, stdout: '', stderr })
  })
}

t.test('an empty DATABASE_URL counts as unset', async (t) => {
  const r = await cli(['migrate'], { env: { DATABASE_URL: '' } })
  t.equal(r.code, 2)
  t.match(r.stderr, 'no database: pass --database <path|url> or set DATABASE_URL')
})

t.test('a value starting with a dash is accepted in the --option=value form', async (t) => {
  const r = await cli(['createapplication', 'bad', 'implicit', '--name=-dash', '--database', '/nonexistent/dir/x.db'])
  t.equal(r.code, 1, 'parsing succeeded; the missing database fails next')
  t.match(r.stderr, 'does not exist')
})
