CREATE TABLE `oauth_cache_state` (
	`id` integer PRIMARY KEY NOT NULL,
	`generation` integer DEFAULT 0 NOT NULL,
	`clearing_before` integer DEFAULT 0 NOT NULL,
	`cleared_before` integer DEFAULT 0 NOT NULL,
	`clear_batches` integer DEFAULT 0 NOT NULL
);--> statement-breakpoint
-- Cross-process invalidation of verification caches (issue 7; lib/store/sqlite/store.ts,
-- `invalidationsReliable`). Every change that can alter a cached verification adds 1 to
-- `generation`, whoever commits it (the store, another process, a host's own SQL, an older
-- toolkit); another connection that sees a new generation drops its whole cache. Inserts need
-- nothing (a cache holds no negative results). The one exception is clearExpired: inside its
-- batch transactions `clearing_before` is the batch's expiry bound, deleting a token expired
-- before it adds nothing, and the batch ends by raising `cleared_before` to that bound and
-- adding 1 to `clear_batches`, which others turn into a precise "expired before" invalidation.
INSERT INTO `oauth_cache_state` (`id`, `generation`, `clearing_before`, `cleared_before`, `clear_batches`) VALUES (1, 0, 0, 0, 0);--> statement-breakpoint
CREATE TRIGGER `oauth_cache_accesstoken_delete` AFTER DELETE ON `oauth2_accesstoken`
WHEN OLD.`expires` >= coalesce((SELECT `clearing_before` FROM `oauth_cache_state` WHERE `id` = 1), 0)
BEGIN
	UPDATE `oauth_cache_state` SET `generation` = `generation` + 1 WHERE `id` = 1;
END;--> statement-breakpoint
-- Only the columns a cached verification holds: ON DELETE SET NULL of `grant_id` (clearExpired
-- deleting expired grants) updates a column no cache reads.
CREATE TRIGGER `oauth_cache_accesstoken_update` AFTER UPDATE OF `id`, `token_checksum`, `application_id`, `user_id`, `scope`, `expires`, `resource` ON `oauth2_accesstoken`
BEGIN
	UPDATE `oauth_cache_state` SET `generation` = `generation` + 1 WHERE `id` = 1;
END;--> statement-breakpoint
-- A cached verification holds the whole application.
CREATE TRIGGER `oauth_cache_application_update` AFTER UPDATE ON `oauth2_application`
BEGIN
	UPDATE `oauth_cache_state` SET `generation` = `generation` + 1 WHERE `id` = 1;
END;--> statement-breakpoint
CREATE TRIGGER `oauth_cache_application_delete` AFTER DELETE ON `oauth2_application`
BEGIN
	UPDATE `oauth_cache_state` SET `generation` = `generation` + 1 WHERE `id` = 1;
END;
