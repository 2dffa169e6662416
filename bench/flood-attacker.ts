// The attacker of `npm run bench -- --flood` (bench/flood.ts), in its own process so its load
// generation does not slow the measured client's event loop: `flood-attacker.ts <origin>
// <seconds> <connections> <attacks JSON>` sends the attacks round-robin over `connections`
// keep-alive connections as fast as the server answers, then prints one JSON line of counts.
// Each attack has its own loopback source address (the whole 127.0.0.0/8 reaches `lo` on Linux),
// so the per-IP limit meets it apart from the measured client on 127.0.0.1.
import { Agent, request } from 'node:http'
import { fileURLToPath } from 'node:url'

/** One kind of failing request. `body` may contain `{n}`, replaced by a running number. */
export interface Attack {
  readonly name: string
  readonly localAddress: string
  /** `Authorization` header; '' sends none. */
  readonly authorization: string
  readonly body: string
}

/** What a flood saw. */
export interface FloodCounts {
  readonly requests: number
  readonly statuses: Record<string, number>
  readonly errors: number
}

let counter = 0
const agents = new Map<string, Agent>()

/** Sends one attack request; resolves its status (0 on a connection error). */
export async function attack (origin: string, a: Attack): Promise<number> {
  let agent = agents.get(a.localAddress)
  if (agent === undefined) {
    agent = new Agent({ keepAlive: true, localAddress: a.localAddress })
    agents.set(a.localAddress, agent)
  }
  const body = a.body.replaceAll('{n}', String(counter++))
  return await new Promise((resolve) => {
    const req = request(`${origin}/o/token/`, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), ...(a.authorization === '' ? {} : { authorization: a.authorization }) },
    }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
      res.on('error', () => resolve(0))
    })
    req.on('error', () => resolve(0))
    req.end(body)
  })
}

/** Floods `attacks` over `connections` loops for `seconds`. */
export async function flood (origin: string, seconds: number, connections: number, attacks: readonly Attack[]): Promise<FloodCounts> {
  const statuses: Record<string, number> = {}
  let requests = 0
  let errors = 0
  const end = performance.now() + seconds * 1000
  await Promise.all(Array.from({ length: connections }, async (_, i) => {
    for (let k = i; performance.now() < end; k++) {
      const a = attacks[k % attacks.length]
      if (a === undefined) return
      const status = await attack(origin, a)
      requests++
      if (status === 0) errors++
      else statuses[status] = (statuses[status] ?? 0) + 1
    }
  }))
  for (const agent of agents.values()) agent.destroy()
  return { requests, statuses, errors }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [origin, seconds, connections, attacks] = process.argv.slice(2)
  if (origin === undefined || seconds === undefined || connections === undefined || attacks === undefined) throw new Error('usage: flood-attacker.ts <origin> <seconds> <connections> <attacks JSON>')
  const counts = await flood(origin, Number(seconds), Number(connections), JSON.parse(attacks) as Attack[])
  process.stdout.write(JSON.stringify(counts) + '\n')
}
