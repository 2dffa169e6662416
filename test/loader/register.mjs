// The TypeScript loader of the test processes (.taprc node-arg) and of the processes the tests
// start (the example app, the CLI, bench/server.ts): `node --import=./test/loader/register.mjs`.
// It does what tsx does for this project and nothing else, because every process of the suite
// pays for its loader: tsx's resolver (tsconfig paths, extension probing, CommonJS interop) and
// its CommonJS hooks cost about a second of CPU in each process that imports the toolkit. This
// one only maps `./x.js` to `./x.ts` and transpiles `.ts` files with esbuild (tsx's own
// transpiler), caching the output on disk so that a process after the first reads, not compiles.
// Type checking is `npm run typecheck`; `npm start` and the other scripts keep using tsx.
import { register } from 'node:module'

register('./hooks.mjs', import.meta.url)
