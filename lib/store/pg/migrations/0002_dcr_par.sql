CREATE TABLE "oauth2_client_registration" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "oauth2_client_registration_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"application_id" bigint NOT NULL,
	"access_token_checksum" text NOT NULL,
	"metadata" text DEFAULT '{}' NOT NULL,
	"created" timestamp (3) with time zone NOT NULL,
	"updated" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "oauth2_pushed_authorization_request" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "oauth2_pushed_authorization_request_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"request_checksum" text NOT NULL,
	"application_id" bigint NOT NULL,
	"parameters" text NOT NULL,
	"expires" timestamp (3) with time zone NOT NULL,
	"started_at" timestamp (3) with time zone,
	"consumed_at" timestamp (3) with time zone,
	"created" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "oauth2_application" ADD COLUMN "require_pushed_authorization_requests" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "oauth2_client_registration" ADD CONSTRAINT "oauth2_client_registration_application_id_oauth2_application_id_fk" FOREIGN KEY ("application_id") REFERENCES "public"."oauth2_application"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oauth2_pushed_authorization_request" ADD CONSTRAINT "oauth2_pushed_authorization_request_application_id_oauth2_application_id_fk" FOREIGN KEY ("application_id") REFERENCES "public"."oauth2_application"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "oauth2_client_registration_application_uq" ON "oauth2_client_registration" USING btree ("application_id");--> statement-breakpoint
CREATE UNIQUE INDEX "oauth2_par_request_checksum_uq" ON "oauth2_pushed_authorization_request" USING btree ("request_checksum");--> statement-breakpoint
CREATE INDEX "oauth2_par_expires_idx" ON "oauth2_pushed_authorization_request" USING btree ("expires");--> statement-breakpoint
CREATE INDEX "oauth2_par_application_idx" ON "oauth2_pushed_authorization_request" USING btree ("application_id");