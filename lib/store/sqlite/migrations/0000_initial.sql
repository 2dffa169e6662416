CREATE TABLE `oauth2_accesstoken` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`token_checksum` text NOT NULL,
	`application_id` integer,
	`user_id` text,
	`scope` text DEFAULT '' NOT NULL,
	`expires` integer NOT NULL,
	`token_family` text,
	`grant_id` integer,
	`id_token_id` integer,
	`resource` text DEFAULT '' NOT NULL,
	`created` integer NOT NULL,
	`updated` integer NOT NULL,
	FOREIGN KEY (`application_id`) REFERENCES `oauth2_application`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`grant_id`) REFERENCES `oauth2_grant`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`id_token_id`) REFERENCES `oauth2_idtoken`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `oauth2_accesstoken_checksum_uq` ON `oauth2_accesstoken` (`token_checksum`);--> statement-breakpoint
CREATE INDEX `oauth2_accesstoken_expires_idx` ON `oauth2_accesstoken` (`expires`);--> statement-breakpoint
CREATE INDEX `oauth2_accesstoken_user_idx` ON `oauth2_accesstoken` (`user_id`);--> statement-breakpoint
CREATE INDEX `oauth2_accesstoken_family_idx` ON `oauth2_accesstoken` (`token_family`);--> statement-breakpoint
CREATE INDEX `oauth2_accesstoken_grant_idx` ON `oauth2_accesstoken` (`grant_id`);--> statement-breakpoint
CREATE INDEX `oauth2_accesstoken_application_idx` ON `oauth2_accesstoken` (`application_id`);--> statement-breakpoint
CREATE TABLE `oauth2_application` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`client_id` text NOT NULL,
	`client_secret` text DEFAULT '' NOT NULL,
	`client_type` text NOT NULL,
	`authorization_grant_type` text NOT NULL,
	`redirect_uris` text DEFAULT '' NOT NULL,
	`post_logout_redirect_uris` text DEFAULT '' NOT NULL,
	`allowed_origins` text DEFAULT '' NOT NULL,
	`name` text DEFAULT '' NOT NULL,
	`user_id` text,
	`skip_authorization` integer DEFAULT false NOT NULL,
	`algorithm` text DEFAULT '' NOT NULL,
	`created` integer NOT NULL,
	`updated` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `oauth2_application_client_id_uq` ON `oauth2_application` (`client_id`);--> statement-breakpoint
CREATE INDEX `oauth2_application_user_idx` ON `oauth2_application` (`user_id`);--> statement-breakpoint
CREATE TABLE `oauth2_grant` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`code_checksum` text NOT NULL,
	`application_id` integer NOT NULL,
	`user_id` text NOT NULL,
	`expires` integer NOT NULL,
	`redirect_uri` text NOT NULL,
	`scope` text DEFAULT '' NOT NULL,
	`code_challenge` text DEFAULT '' NOT NULL,
	`code_challenge_method` text DEFAULT '' NOT NULL,
	`nonce` text DEFAULT '' NOT NULL,
	`claims` text DEFAULT '' NOT NULL,
	`resource` text DEFAULT '' NOT NULL,
	`auth_time` integer NOT NULL,
	`consumed_at` integer,
	`token_family` text,
	`created` integer NOT NULL,
	`updated` integer NOT NULL,
	FOREIGN KEY (`application_id`) REFERENCES `oauth2_application`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `oauth2_grant_code_checksum_uq` ON `oauth2_grant` (`code_checksum`);--> statement-breakpoint
CREATE INDEX `oauth2_grant_expires_idx` ON `oauth2_grant` (`expires`);--> statement-breakpoint
CREATE INDEX `oauth2_grant_application_idx` ON `oauth2_grant` (`application_id`);--> statement-breakpoint
CREATE TABLE `oauth2_idtoken` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`jti` text NOT NULL,
	`application_id` integer,
	`user_id` text,
	`scope` text DEFAULT '' NOT NULL,
	`expires` integer NOT NULL,
	`created` integer NOT NULL,
	`updated` integer NOT NULL,
	FOREIGN KEY (`application_id`) REFERENCES `oauth2_application`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `oauth2_idtoken_jti_uq` ON `oauth2_idtoken` (`jti`);--> statement-breakpoint
CREATE INDEX `oauth2_idtoken_expires_idx` ON `oauth2_idtoken` (`expires`);--> statement-breakpoint
CREATE TABLE `oauth2_refreshtoken` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`token_checksum` text NOT NULL,
	`application_id` integer NOT NULL,
	`user_id` text,
	`scope` text DEFAULT '' NOT NULL,
	`access_token_id` integer,
	`token_family` text NOT NULL,
	`resource` text DEFAULT '' NOT NULL,
	`revoked` integer,
	`successor_sealed` text,
	`created` integer NOT NULL,
	`updated` integer NOT NULL,
	FOREIGN KEY (`application_id`) REFERENCES `oauth2_application`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`access_token_id`) REFERENCES `oauth2_accesstoken`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `oauth2_refreshtoken_checksum_uq` ON `oauth2_refreshtoken` (`token_checksum`);--> statement-breakpoint
CREATE UNIQUE INDEX `oauth2_refreshtoken_access_token_uq` ON `oauth2_refreshtoken` (`access_token_id`) WHERE "oauth2_refreshtoken"."access_token_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `oauth2_refreshtoken_family_idx` ON `oauth2_refreshtoken` (`token_family`);--> statement-breakpoint
CREATE INDEX `oauth2_refreshtoken_revoked_idx` ON `oauth2_refreshtoken` (`revoked`);--> statement-breakpoint
CREATE INDEX `oauth2_refreshtoken_created_idx` ON `oauth2_refreshtoken` (`created`);--> statement-breakpoint
CREATE INDEX `oauth2_refreshtoken_application_idx` ON `oauth2_refreshtoken` (`application_id`);