CREATE TABLE `oauth2_used_jti` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`key_checksum` text NOT NULL,
	`expires` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `oauth2_used_jti_key_uq` ON `oauth2_used_jti` (`kind`,`key_checksum`);--> statement-breakpoint
CREATE INDEX `oauth2_used_jti_expires_idx` ON `oauth2_used_jti` (`expires`);--> statement-breakpoint
ALTER TABLE `oauth2_accesstoken` ADD `jkt` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `oauth2_application` ADD `jwks` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `oauth2_application` ADD `jwks_uri` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `oauth2_application` ADD `token_endpoint_auth_signing_alg` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `oauth2_application` ADD `dpop_bound_access_tokens` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `oauth2_application` ADD `require_signed_request_object` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `oauth2_application` ADD `request_object_signing_alg` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `oauth2_grant` ADD `dpop_jkt` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `oauth2_refreshtoken` ADD `jkt` text DEFAULT '' NOT NULL;