// Spec files (`*.spec.ts`) hold tests like any `*.test.ts`, but tap does not start them one by
// one: a bundle (`specs*.test.ts` in the same directory) imports several in one process. Every
// test process pays for node, tap, the TypeScript loader and the toolkit's modules before its
// first assertion (more than a second of CPU each); the suite's light, in-process files share that
// instead, which is what keeps `npm test` short on a busy two-core machine. Files that start
// processes, wait on real time or hold the CPU for long stay `*.test.ts`, each in its own process,
// so tap runs them in parallel. One spec still runs alone: `npx tap test/dir/name.spec.ts`.
//
// test/lib/spec-bundles.spec.ts checks that every spec file is in exactly one bundle.

/**
 * Imports the spec files `names` (relative to `bundleUrl`, the bundle's `import.meta.url`) one
 * after another. Their tests join this process's root test in that order.
 */
export async function runSpecs (bundleUrl: string, names: readonly string[]): Promise<void> {
  for (const name of names) await import(new URL(name, bundleUrl).href)
}
