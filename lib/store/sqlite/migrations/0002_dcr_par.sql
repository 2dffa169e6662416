CREATE TABLE `oauth2_client_registration` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`application_id` integer NOT NULL,
	`access_token_checksum` text NOT NULL,
	`metadata` text DEFAULT '{}' NOT NULL,
	`created` integer NOT NULL,
	`updated` integer NOT NULL,
	FOREIGN KEY (`application_id`) REFERENCES `oauth2_application`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `oauth2_client_registration_application_uq` ON `oauth2_client_registration` (`application_id`);--> statement-breakpoint
CREATE TABLE `oauth2_pushed_authorization_request` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`request_checksum` text NOT NULL,
	`application_id` integer NOT NULL,
	`parameters` text NOT NULL,
	`expires` integer NOT NULL,
	`started_at` integer,
	`consumed_at` integer,
	`created` integer NOT NULL,
	FOREIGN KEY (`application_id`) REFERENCES `oauth2_application`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `oauth2_par_request_checksum_uq` ON `oauth2_pushed_authorization_request` (`request_checksum`);--> statement-breakpoint
CREATE INDEX `oauth2_par_expires_idx` ON `oauth2_pushed_authorization_request` (`expires`);--> statement-breakpoint
CREATE INDEX `oauth2_par_application_idx` ON `oauth2_pushed_authorization_request` (`application_id`);--> statement-breakpoint
ALTER TABLE `oauth2_application` ADD `require_pushed_authorization_requests` integer DEFAULT false NOT NULL;