CREATE TABLE "oauth2_devicegrant" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "oauth2_devicegrant_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"device_code_checksum" text NOT NULL,
	"user_code_checksum" text NOT NULL,
	"application_id" bigint NOT NULL,
	"user_id" text,
	"scope" text DEFAULT '' NOT NULL,
	"status" text DEFAULT 'authorization-pending' NOT NULL,
	"expires" timestamp (3) with time zone NOT NULL,
	"interval" integer NOT NULL,
	"last_polled" timestamp (3) with time zone,
	"auth_time" timestamp (3) with time zone,
	"consumed_at" timestamp (3) with time zone,
	"created" timestamp (3) with time zone NOT NULL,
	"updated" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "oauth2_devicegrant" ADD CONSTRAINT "oauth2_devicegrant_application_id_oauth2_application_id_fk" FOREIGN KEY ("application_id") REFERENCES "public"."oauth2_application"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "oauth2_devicegrant_device_code_uq" ON "oauth2_devicegrant" USING btree ("device_code_checksum");--> statement-breakpoint
CREATE UNIQUE INDEX "oauth2_devicegrant_user_code_uq" ON "oauth2_devicegrant" USING btree ("user_code_checksum");--> statement-breakpoint
CREATE INDEX "oauth2_devicegrant_expires_idx" ON "oauth2_devicegrant" USING btree ("expires");--> statement-breakpoint
CREATE INDEX "oauth2_devicegrant_application_idx" ON "oauth2_devicegrant" USING btree ("application_id");