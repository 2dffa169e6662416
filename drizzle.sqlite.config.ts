import { defineConfig } from 'drizzle-kit'

// Generates the versioned SQLite migrations from the schema: `npm run db:generate`.
export default defineConfig({
  dialect: 'sqlite',
  schema: './lib/store/sqlite/schema.ts',
  out: './lib/store/sqlite/migrations',
})
