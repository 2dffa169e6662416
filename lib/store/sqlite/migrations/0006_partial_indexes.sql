DROP INDEX `oauth2_accesstoken_user_idx`;--> statement-breakpoint
DROP INDEX `oauth2_accesstoken_family_idx`;--> statement-breakpoint
DROP INDEX `oauth2_accesstoken_grant_idx`;--> statement-breakpoint
CREATE INDEX `oauth2_accesstoken_user_idx` ON `oauth2_accesstoken` (`user_id`) WHERE "oauth2_accesstoken"."user_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `oauth2_accesstoken_family_idx` ON `oauth2_accesstoken` (`token_family`) WHERE "oauth2_accesstoken"."token_family" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `oauth2_accesstoken_grant_idx` ON `oauth2_accesstoken` (`grant_id`) WHERE "oauth2_accesstoken"."grant_id" IS NOT NULL;