// Lint and format rules: neostandard (the "standard" style for modern ESLint), with TypeScript.
import neostandard from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'scratch/**', 'coverage/**', '.tap/**', 'node_modules/**', 'lib/store/*/migrations/**'],
  }),
]
