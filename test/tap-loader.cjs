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
