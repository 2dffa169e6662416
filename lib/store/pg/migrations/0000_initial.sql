CREATE TABLE "oauth2_accesstoken" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "oauth2_accesstoken_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"token_checksum" text NOT NULL,
	"application_id" bigint,
	"user_id" text,
	"scope" text DEFAULT '' NOT NULL,
	"expires" timestamp (3) with time zone NOT NULL,
	"token_family" text,
	"grant_id" bigint,
	"id_token_id" bigint,
	"resource" text DEFAULT '' NOT NULL,
	"created" timestamp (3) with time zone NOT NULL,
	"updated" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "oauth2_application" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "oauth2_application_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"client_id" text NOT NULL,
	"client_secret" text DEFAULT '' NOT NULL,
	"client_type" text NOT NULL,
	"authorization_grant_type" text NOT NULL,
	"redirect_uris" text DEFAULT '' NOT NULL,
	"post_logout_redirect_uris" text DEFAULT '' NOT NULL,
	"allowed_origins" text DEFAULT '' NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"user_id" text,
	"skip_authorization" boolean DEFAULT false NOT NULL,
	"algorithm" text DEFAULT '' NOT NULL,
	"created" timestamp (3) with time zone NOT NULL,
	"updated" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "oauth2_grant" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "oauth2_grant_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"code_checksum" text NOT NULL,
	"application_id" bigint NOT NULL,
	"user_id" text NOT NULL,
	"expires" timestamp (3) with time zone NOT NULL,
	"redirect_uri" text NOT NULL,
	"scope" text DEFAULT '' NOT NULL,
	"code_challenge" text DEFAULT '' NOT NULL,
	"code_challenge_method" text DEFAULT '' NOT NULL,
	"nonce" text DEFAULT '' NOT NULL,
	"claims" text DEFAULT '' NOT NULL,
	"resource" text DEFAULT '' NOT NULL,
	"auth_time" timestamp (3) with time zone NOT NULL,
	"consumed_at" timestamp (3) with time zone,
	"token_family" text,
	"created" timestamp (3) with time zone NOT NULL,
	"updated" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "oauth2_idtoken" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "oauth2_idtoken_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"jti" text NOT NULL,
	"application_id" bigint,
	"user_id" text,
	"scope" text DEFAULT '' NOT NULL,
	"expires" timestamp (3) with time zone NOT NULL,
	"created" timestamp (3) with time zone NOT NULL,
	"updated" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "oauth2_refreshtoken" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "oauth2_refreshtoken_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"token_checksum" text NOT NULL,
	"application_id" bigint NOT NULL,
	"user_id" text,
	"scope" text DEFAULT '' NOT NULL,
	"access_token_id" bigint,
	"token_family" text NOT NULL,
	"resource" text DEFAULT '' NOT NULL,
	"revoked" timestamp (3) with time zone,
	"successor_sealed" text,
	"created" timestamp (3) with time zone NOT NULL,
	"updated" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "oauth2_accesstoken" ADD CONSTRAINT "oauth2_accesstoken_application_id_oauth2_application_id_fk" FOREIGN KEY ("application_id") REFERENCES "public"."oauth2_application"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oauth2_accesstoken" ADD CONSTRAINT "oauth2_accesstoken_grant_id_oauth2_grant_id_fk" FOREIGN KEY ("grant_id") REFERENCES "public"."oauth2_grant"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oauth2_accesstoken" ADD CONSTRAINT "oauth2_accesstoken_id_token_id_oauth2_idtoken_id_fk" FOREIGN KEY ("id_token_id") REFERENCES "public"."oauth2_idtoken"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oauth2_grant" ADD CONSTRAINT "oauth2_grant_application_id_oauth2_application_id_fk" FOREIGN KEY ("application_id") REFERENCES "public"."oauth2_application"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oauth2_idtoken" ADD CONSTRAINT "oauth2_idtoken_application_id_oauth2_application_id_fk" FOREIGN KEY ("application_id") REFERENCES "public"."oauth2_application"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oauth2_refreshtoken" ADD CONSTRAINT "oauth2_refreshtoken_application_id_oauth2_application_id_fk" FOREIGN KEY ("application_id") REFERENCES "public"."oauth2_application"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oauth2_refreshtoken" ADD CONSTRAINT "oauth2_refreshtoken_access_token_id_oauth2_accesstoken_id_fk" FOREIGN KEY ("access_token_id") REFERENCES "public"."oauth2_accesstoken"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "oauth2_accesstoken_checksum_uq" ON "oauth2_accesstoken" USING btree ("token_checksum");--> statement-breakpoint
CREATE INDEX "oauth2_accesstoken_expires_idx" ON "oauth2_accesstoken" USING btree ("expires");--> statement-breakpoint
CREATE INDEX "oauth2_accesstoken_user_idx" ON "oauth2_accesstoken" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "oauth2_accesstoken_family_idx" ON "oauth2_accesstoken" USING btree ("token_family");--> statement-breakpoint
CREATE INDEX "oauth2_accesstoken_grant_idx" ON "oauth2_accesstoken" USING btree ("grant_id");--> statement-breakpoint
CREATE INDEX "oauth2_accesstoken_application_idx" ON "oauth2_accesstoken" USING btree ("application_id");--> statement-breakpoint
CREATE INDEX "oauth2_accesstoken_id_token_idx" ON "oauth2_accesstoken" USING btree ("id_token_id");--> statement-breakpoint
CREATE UNIQUE INDEX "oauth2_application_client_id_uq" ON "oauth2_application" USING btree ("client_id");--> statement-breakpoint
CREATE INDEX "oauth2_application_user_idx" ON "oauth2_application" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "oauth2_grant_code_checksum_uq" ON "oauth2_grant" USING btree ("code_checksum");--> statement-breakpoint
CREATE INDEX "oauth2_grant_expires_idx" ON "oauth2_grant" USING btree ("expires");--> statement-breakpoint
CREATE INDEX "oauth2_grant_application_idx" ON "oauth2_grant" USING btree ("application_id");--> statement-breakpoint
CREATE UNIQUE INDEX "oauth2_idtoken_jti_uq" ON "oauth2_idtoken" USING btree ("jti");--> statement-breakpoint
CREATE INDEX "oauth2_idtoken_expires_idx" ON "oauth2_idtoken" USING btree ("expires");--> statement-breakpoint
CREATE INDEX "oauth2_idtoken_application_idx" ON "oauth2_idtoken" USING btree ("application_id");--> statement-breakpoint
CREATE UNIQUE INDEX "oauth2_refreshtoken_checksum_uq" ON "oauth2_refreshtoken" USING btree ("token_checksum");--> statement-breakpoint
CREATE UNIQUE INDEX "oauth2_refreshtoken_access_token_uq" ON "oauth2_refreshtoken" USING btree ("access_token_id") WHERE "oauth2_refreshtoken"."access_token_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "oauth2_refreshtoken_family_idx" ON "oauth2_refreshtoken" USING btree ("token_family");--> statement-breakpoint
CREATE INDEX "oauth2_refreshtoken_revoked_idx" ON "oauth2_refreshtoken" USING btree ("revoked");--> statement-breakpoint
CREATE INDEX "oauth2_refreshtoken_created_idx" ON "oauth2_refreshtoken" USING btree ("created");--> statement-breakpoint
CREATE INDEX "oauth2_refreshtoken_application_idx" ON "oauth2_refreshtoken" USING btree ("application_id");