// Preloaded into every test process (.taprc node-arg, --require runs before the --import
// loaders): tells @tapjs/typescript not to register ts-node, so that the next node-arg (test/loader/register.mjs)
// loads the TypeScript tests.
'use strict'
process.env.TAP_TYPE_STRIP_ONLY = '1'
