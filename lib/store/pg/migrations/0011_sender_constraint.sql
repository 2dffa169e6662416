CREATE TABLE "oauth2_used_jti" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "oauth2_used_jti_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"kind" text NOT NULL,
	"key_checksum" text NOT NULL,
	"expires" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "oauth2_accesstoken" ADD COLUMN "jkt" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "oauth2_application" ADD COLUMN "jwks" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "oauth2_application" ADD COLUMN "jwks_uri" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "oauth2_application" ADD COLUMN "token_endpoint_auth_signing_alg" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "oauth2_application" ADD COLUMN "dpop_bound_access_tokens" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "oauth2_application" ADD COLUMN "require_signed_request_object" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "oauth2_application" ADD COLUMN "request_object_signing_alg" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "oauth2_grant" ADD COLUMN "dpop_jkt" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "oauth2_refreshtoken" ADD COLUMN "jkt" text DEFAULT '' NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "oauth2_used_jti_key_uq" ON "oauth2_used_jti" USING btree ("kind","key_checksum");--> statement-breakpoint
CREATE INDEX "oauth2_used_jti_expires_idx" ON "oauth2_used_jti" USING btree ("expires");