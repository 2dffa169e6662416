// Preloaded into every test process (.taprc node-arg, --require runs before the --import
// loaders): tells @tapjs/typescript not to register ts-node, so that the next node-arg
// (test/loader/register.mjs) loads the TypeScript tests.
'use strict'
process.env.TAP_TYPE_STRIP_ONLY = '1'
// tap's processinfo (loaded into every test process and, through NODE_OPTIONS, into the processes
// the tests start) records each module a process loads, reading the file and counting its lines,
// for coverage and `tap --changed`. The runner's own exclusion leaves in node_modules, hundreds of
// files per process; they are left out here, as coverage leaves them out, and `--changed` still
// follows the project's files. processinfo's import reads this after the --require preloads.
process.env._TAPJS_PROCESSINFO_EXCLUDE_ = String(/(^(node|tapmock):|[\\/](\.tap|tap-snapshots|node_modules)[\\/])/)
// The same processinfo reaches every process the tests start (the example app, the CLI, npm, tsc,
// the package test's node runs) through NODE_OPTIONS, at about a third of a second of CPU in
// each: it is taken out of the environment they inherit. Nothing here uses what it records for
// them (coverage is off; `tap --changed` follows the test files' own imports).
if (process.env.NODE_OPTIONS !== undefined) {
  const kept = process.env.NODE_OPTIONS.split(/\s+/).filter((option) => option !== '' && !/@tapjs[\\/]processinfo/.test(option))
  if (kept.length > 0) process.env.NODE_OPTIONS = kept.join(' ')
  else delete process.env.NODE_OPTIONS
}
