// Paths of the baseline routes bench/server.ts adds next to the example app's.

/** The unprotected twin of `/api/hello` (same handler, no token check). */
export const BARE_HELLO_PATH = '/bench/hello'
/** The form-echo baseline of the token endpoint: parses the form body and returns it as JSON. */
export const FORM_ECHO_PATH = '/bench/echo'
