import { defineConfig } from 'drizzle-kit'

// Generates the versioned PostgreSQL migrations from the schema: `npm run db:generate`.
export default defineConfig({
  dialect: 'postgresql',
  schema: './lib/store/pg/schema.ts',
  out: './lib/store/pg/migrations',
})
