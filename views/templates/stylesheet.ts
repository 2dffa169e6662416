/** The toolkit's stylesheet, served at `{prefix}/static/oauth.css` (no CDN, no fonts to fetch). */
export const STYLESHEET = `:root { color-scheme: light dark; --accent: #1f6feb; --fg: #1f2328; --bg: #f6f8fa; --card: #fff; --muted: #59636e; --border: #d1d9e0; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --card: #151b23; --muted: #9198a1; --border: #3d444d; --accent: #4493f8; } }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: var(--bg); color: var(--fg);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; padding: 1rem; }
.oat-card { width: 100%; max-width: 36rem; background: var(--card); border: 1px solid var(--border); border-radius: 12px; padding: 1.5rem; }
h1 { font-size: 1.35rem; margin: 0 0 1rem; }
.oat-app { color: var(--accent); }
.oat-scopes { padding-left: 1.25rem; }
.oat-actions { display: flex; gap: .75rem; justify-content: flex-end; margin-top: 1.5rem; flex-wrap: wrap; }
button, .oat-button { font: inherit; padding: .6rem 1.1rem; border-radius: 8px; border: 1px solid var(--border); cursor: pointer; }
.oat-primary { background: var(--accent); color: #fff; border-color: var(--accent); }
.oat-secondary { background: transparent; color: var(--fg); }
button:focus-visible, a:focus-visible, input:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
input[type=text], input[type=password], input[type=url], select, textarea { width: 100%; font: inherit; padding: .5rem; border: 1px solid var(--border); border-radius: 6px; background: var(--card); color: var(--fg); }
.oat-error { color: #cf222e; }
a { color: var(--accent); }
a.oat-button { display: inline-block; text-decoration: none; }
.oat-muted { color: var(--muted); font-size: .9rem; }
.oat-hint { color: var(--muted); font-size: .85rem; margin: .25rem 0 0; }
.oat-field { margin-bottom: .5rem; }
.oat-invalid input, .oat-invalid select, .oat-invalid textarea { border-color: #cf222e; }
.oat-list { list-style: none; padding: 0; }
.oat-list > li { border-top: 1px solid var(--border); padding: .75rem 0; }
.oat-notice { border: 1px solid var(--accent); border-radius: 8px; padding: .75rem; margin-bottom: 1rem; overflow-wrap: anywhere; }
.oat-details dt { font-weight: 600; margin-top: .5rem; }
.oat-details dd { margin: 0; overflow-wrap: anywhere; }
.oat-inline { display: inline; margin: 0; }
.oat-danger { background: #cf222e; border-color: #cf222e; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.oat-admin { max-width: 80rem; }
.oat-nav { display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: baseline; border-bottom: 1px solid var(--border); padding-bottom: .75rem; margin-bottom: 1rem; }
.oat-nav a[aria-current=page] { font-weight: 700; text-decoration: none; }
.oat-nav .oat-muted { margin-left: auto; }
.oat-filters { display: flex; flex-wrap: wrap; gap: 0 1rem; align-items: flex-end; margin-bottom: 1rem; }
.oat-filters .oat-field { flex: 1 1 10rem; }
.oat-filters .oat-actions { margin-top: 0; }
.oat-scroll { overflow-x: auto; }
.oat-table { width: 100%; border-collapse: collapse; font-size: .9rem; }
.oat-table th, .oat-table td { text-align: left; padding: .4rem .5rem; border-top: 1px solid var(--border); vertical-align: top; overflow-wrap: anywhere; }
.oat-table th { border-top: 0; }
.oat-codepoint { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .8em; border: 1px solid #cf222e; border-radius: 3px; padding: 0 .15em; color: #cf222e; }
h2 { font-size: 1.1rem; margin: 1.25rem 0 .5rem; }
`
