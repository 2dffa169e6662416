CREATE TABLE `oauth2_logout_delivery` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`application_id` integer NOT NULL,
	`user_id` text NOT NULL,
	`sid` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt` integer NOT NULL,
	`last_error` text DEFAULT '' NOT NULL,
	`created` integer NOT NULL,
	FOREIGN KEY (`application_id`) REFERENCES `oauth2_application`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `oauth2_logout_delivery_next_idx` ON `oauth2_logout_delivery` (`next_attempt`);--> statement-breakpoint
CREATE INDEX `oauth2_logout_delivery_application_idx` ON `oauth2_logout_delivery` (`application_id`);--> statement-breakpoint
CREATE TABLE `oauth2_session_client` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`session_id` integer NOT NULL,
	`application_id` integer NOT NULL,
	`created` integer NOT NULL,
	FOREIGN KEY (`session_id`) REFERENCES `oauth2_session`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`application_id`) REFERENCES `oauth2_application`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `oauth2_session_client_uq` ON `oauth2_session_client` (`session_id`,`application_id`);--> statement-breakpoint
CREATE INDEX `oauth2_session_client_application_idx` ON `oauth2_session_client` (`application_id`);--> statement-breakpoint
CREATE TABLE `oauth2_session` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sid` text NOT NULL,
	`session_key_checksum` text,
	`user_id` text NOT NULL,
	`auth_time` integer NOT NULL,
	`expires` integer NOT NULL,
	`ended` integer,
	`created` integer NOT NULL,
	`updated` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `oauth2_session_sid_uq` ON `oauth2_session` (`sid`);--> statement-breakpoint
CREATE UNIQUE INDEX `oauth2_session_key_uq` ON `oauth2_session` (`session_key_checksum`) WHERE "oauth2_session"."session_key_checksum" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `oauth2_session_user_idx` ON `oauth2_session` (`user_id`);--> statement-breakpoint
CREATE INDEX `oauth2_session_expires_idx` ON `oauth2_session` (`expires`);--> statement-breakpoint
ALTER TABLE `oauth2_application` ADD `backchannel_logout_uri` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `oauth2_application` ADD `backchannel_logout_session_required` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `oauth2_application` ADD `cimd_expires_at` integer;--> statement-breakpoint
ALTER TABLE `oauth2_grant` ADD `session_id` integer REFERENCES oauth2_session(id) ON DELETE SET NULL;--> statement-breakpoint
CREATE INDEX `oauth2_grant_session_idx` ON `oauth2_grant` (`session_id`) WHERE "oauth2_grant"."session_id" IS NOT NULL;--> statement-breakpoint
ALTER TABLE `oauth2_refreshtoken` ADD `session_id` integer REFERENCES oauth2_session(id) ON DELETE SET NULL;--> statement-breakpoint
CREATE INDEX `oauth2_refreshtoken_session_idx` ON `oauth2_refreshtoken` (`session_id`) WHERE "oauth2_refreshtoken"."session_id" IS NOT NULL;