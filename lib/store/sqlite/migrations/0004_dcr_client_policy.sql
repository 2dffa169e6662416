ALTER TABLE `oauth2_application` ADD `token_endpoint_auth_method` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `oauth2_application` ADD `allowed_scopes` text;