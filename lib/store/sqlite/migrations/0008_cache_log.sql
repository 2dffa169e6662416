CREATE TABLE `oauth_cache_log` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`token_checksum` text NOT NULL
);
--> statement-breakpoint
ALTER TABLE `oauth_cache_state` ADD `log_pruned_through` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Precise cross-process invalidation (lib/store/sqlite/cache-state.ts): instead of adding 1 to
-- `generation` (which made every other connection drop its whole cache), a DELETE or a change
-- of an access token appends its checksum to `oauth_cache_log`, whoever commits it; another
-- connection evicts just those. Same conditions as 0007: clearExpired's deletes of tokens that
-- expired before `clearing_before` are left out (its batches report themselves), and only the
-- columns a cached verification holds count. Applications keep bumping `generation` (`all`).
-- The 0007 token triggers are replaced under new names, so that a store of a version that knows
-- only 0007 finds its triggers missing and drops its whole cache on every commit of another
-- connection, instead of waiting for a generation that token changes no longer move.
DROP TRIGGER `oauth_cache_accesstoken_delete`;--> statement-breakpoint
DROP TRIGGER `oauth_cache_accesstoken_update`;--> statement-breakpoint
CREATE TRIGGER `oauth_cache_log_accesstoken_delete` AFTER DELETE ON `oauth2_accesstoken`
WHEN OLD.`expires` >= coalesce((SELECT `clearing_before` FROM `oauth_cache_state` WHERE `id` = 1), 0)
BEGIN
	INSERT INTO `oauth_cache_log` (`token_checksum`) VALUES (OLD.`token_checksum`);
END;--> statement-breakpoint
CREATE TRIGGER `oauth_cache_log_accesstoken_update` AFTER UPDATE OF `id`, `token_checksum`, `application_id`, `user_id`, `scope`, `expires`, `resource` ON `oauth2_accesstoken`
BEGIN
	INSERT INTO `oauth_cache_log` (`token_checksum`) VALUES (OLD.`token_checksum`);
	INSERT INTO `oauth_cache_log` (`token_checksum`) SELECT NEW.`token_checksum` WHERE NEW.`token_checksum` IS NOT OLD.`token_checksum`;
END;--> statement-breakpoint
-- Whoever deletes log entries (the stores' pruning, or a host) raises `log_pruned_through`: a
-- connection that had not read them yet then drops its whole cache instead of missing them.
CREATE TRIGGER `oauth_cache_log_delete` AFTER DELETE ON `oauth_cache_log`
BEGIN
	UPDATE `oauth_cache_state` SET `log_pruned_through` = OLD.`seq` WHERE `id` = 1 AND `log_pruned_through` < OLD.`seq`;
END;
