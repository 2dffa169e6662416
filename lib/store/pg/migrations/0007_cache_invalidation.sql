-- Nothing to do on PostgreSQL: SQLite's 0007 adds the state table and triggers through which
-- other connections learn of changes to cached verifications; PostgreSQL stores send NOTIFY
-- (lib/store/invalidation.ts). Kept so that both dialects ship the same migrations.
SELECT 1;
