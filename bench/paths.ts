// Paths of the baseline routes the bench servers add beside the toolkit's (no imports: the
// compiled bare-process servers load it too, bench/build.ts).

/** The unprotected twin of `/api/hello` (same handler, no token check). */
export const BARE_HELLO_PATH = '/bench/hello'
/** The form-echo baseline of the token endpoint: parses the form body and returns it as JSON. */
export const FORM_ECHO_PATH = '/bench/echo'
