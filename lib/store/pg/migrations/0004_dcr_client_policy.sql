ALTER TABLE "oauth2_application" ADD COLUMN "token_endpoint_auth_method" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "oauth2_application" ADD COLUMN "allowed_scopes" text;