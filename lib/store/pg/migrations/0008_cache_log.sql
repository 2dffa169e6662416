-- Nothing to do on PostgreSQL: SQLite's 0008 adds the log through which other connections learn
-- which access tokens were deleted or changed; PostgreSQL stores send NOTIFY with the checksums
-- (lib/store/invalidation.ts). Kept so that both dialects ship the same migrations.
SELECT 1;
