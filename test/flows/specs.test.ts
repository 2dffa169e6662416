// The end-to-end flows with real client libraries (oauth4webapi, openid-client, an MCP-style
// client) against listening servers, test/dpop's included, in one test process (see
// test/helpers/specs.ts): each listens on ports of its own and waits mostly on its own sockets,
// so sharing one process costs no parallelism worth the second of CPU a process start costs.
import { runSpecs } from '../helpers/specs.js'

await runSpecs(import.meta.url, [
  './cimd.spec.ts',
  './jwt-client-auth.spec.ts',
  './mcp-client.spec.ts',
  '../dpop/clients.spec.ts',
])
