CREATE TABLE "oauth2_logout_delivery" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "oauth2_logout_delivery_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"application_id" bigint NOT NULL,
	"user_id" text NOT NULL,
	"sid" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt" timestamp (3) with time zone NOT NULL,
	"last_error" text DEFAULT '' NOT NULL,
	"created" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "oauth2_session_client" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "oauth2_session_client_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"session_id" bigint NOT NULL,
	"application_id" bigint NOT NULL,
	"created" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "oauth2_session" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "oauth2_session_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"sid" text NOT NULL,
	"session_key_checksum" text,
	"user_id" text NOT NULL,
	"auth_time" timestamp (3) with time zone NOT NULL,
	"expires" timestamp (3) with time zone NOT NULL,
	"ended" timestamp (3) with time zone,
	"created" timestamp (3) with time zone NOT NULL,
	"updated" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "oauth2_application" ADD COLUMN "backchannel_logout_uri" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "oauth2_application" ADD COLUMN "backchannel_logout_session_required" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "oauth2_application" ADD COLUMN "cimd_expires_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "oauth2_grant" ADD COLUMN "session_id" bigint;--> statement-breakpoint
ALTER TABLE "oauth2_refreshtoken" ADD COLUMN "session_id" bigint;--> statement-breakpoint
ALTER TABLE "oauth2_logout_delivery" ADD CONSTRAINT "oauth2_logout_delivery_application_id_oauth2_application_id_fk" FOREIGN KEY ("application_id") REFERENCES "public"."oauth2_application"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oauth2_session_client" ADD CONSTRAINT "oauth2_session_client_session_id_oauth2_session_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."oauth2_session"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oauth2_session_client" ADD CONSTRAINT "oauth2_session_client_application_id_oauth2_application_id_fk" FOREIGN KEY ("application_id") REFERENCES "public"."oauth2_application"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "oauth2_logout_delivery_next_idx" ON "oauth2_logout_delivery" USING btree ("next_attempt");--> statement-breakpoint
CREATE INDEX "oauth2_logout_delivery_application_idx" ON "oauth2_logout_delivery" USING btree ("application_id");--> statement-breakpoint
CREATE UNIQUE INDEX "oauth2_session_client_uq" ON "oauth2_session_client" USING btree ("session_id","application_id");--> statement-breakpoint
CREATE INDEX "oauth2_session_client_application_idx" ON "oauth2_session_client" USING btree ("application_id");--> statement-breakpoint
CREATE UNIQUE INDEX "oauth2_session_sid_uq" ON "oauth2_session" USING btree ("sid");--> statement-breakpoint
CREATE UNIQUE INDEX "oauth2_session_key_uq" ON "oauth2_session" USING btree ("session_key_checksum") WHERE "oauth2_session"."session_key_checksum" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "oauth2_session_user_idx" ON "oauth2_session" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "oauth2_session_expires_idx" ON "oauth2_session" USING btree ("expires");--> statement-breakpoint
ALTER TABLE "oauth2_grant" ADD CONSTRAINT "oauth2_grant_session_id_oauth2_session_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."oauth2_session"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oauth2_refreshtoken" ADD CONSTRAINT "oauth2_refreshtoken_session_id_oauth2_session_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."oauth2_session"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "oauth2_grant_session_idx" ON "oauth2_grant" USING btree ("session_id") WHERE "oauth2_grant"."session_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "oauth2_refreshtoken_session_idx" ON "oauth2_refreshtoken" USING btree ("session_id") WHERE "oauth2_refreshtoken"."session_id" IS NOT NULL;