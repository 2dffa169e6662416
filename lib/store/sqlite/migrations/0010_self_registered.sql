ALTER TABLE `oauth2_application` ADD `self_registered` integer DEFAULT false NOT NULL;--> statement-breakpoint
-- Existing rows: a client with a registration record registered itself (RFC 7591). One created
-- through the self-service management pages cannot be told apart from one an administrator gave
-- an owner (the CLI's --user, host code's userId), so every owned application is marked too: at
-- worst a vetted client's early authorization errors are shown on the error page instead of
-- redirected, until the operator clears the flag (docs/deployment.md, upgrade notes).
UPDATE `oauth2_application` SET `self_registered` = 1
WHERE `user_id` IS NOT NULL OR `id` IN (SELECT `application_id` FROM `oauth2_client_registration`);
