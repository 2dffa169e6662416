CREATE TABLE `oauth2_devicegrant` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`device_code_checksum` text NOT NULL,
	`user_code_checksum` text NOT NULL,
	`application_id` integer NOT NULL,
	`user_id` text,
	`scope` text DEFAULT '' NOT NULL,
	`status` text DEFAULT 'authorization-pending' NOT NULL,
	`expires` integer NOT NULL,
	`interval` integer NOT NULL,
	`last_polled` integer,
	`auth_time` integer,
	`consumed_at` integer,
	`created` integer NOT NULL,
	`updated` integer NOT NULL,
	FOREIGN KEY (`application_id`) REFERENCES `oauth2_application`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `oauth2_devicegrant_device_code_uq` ON `oauth2_devicegrant` (`device_code_checksum`);--> statement-breakpoint
CREATE UNIQUE INDEX `oauth2_devicegrant_user_code_uq` ON `oauth2_devicegrant` (`user_code_checksum`);--> statement-breakpoint
CREATE INDEX `oauth2_devicegrant_expires_idx` ON `oauth2_devicegrant` (`expires`);--> statement-breakpoint
CREATE INDEX `oauth2_devicegrant_application_idx` ON `oauth2_devicegrant` (`application_id`);