ALTER TABLE `oauth2_application` ADD `client_secret_sealed` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `oauth2_refreshtoken` ADD `auth_time` integer;