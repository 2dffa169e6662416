// Child processes of the benchmark: servers on free ports, and the cleartokens job.
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** A server child process listening on `port`. */
export interface ServerChild {
  readonly name: string
  readonly pid: number
  readonly port: number
  readonly url: string
  stop (): Promise<void>
}

/** The script, run with this process's Node flags (tsx's loader and the source condition) and `nodeFlags`. */
function spawnScript (script: string, args: readonly string[], nodeFlags: readonly string[] = []): ChildProcess {
  const path = fileURLToPath(new URL(script, import.meta.url))
  return spawn(process.execPath, [...process.execArgv, ...nodeFlags, path, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
}

/** Resolves the first stdout line, parsed as JSON; rejects when the child exits first. */
function firstJsonLine<T> (child: ChildProcess, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    const onExit = (code: number | null): void => reject(new Error(`${what} exited with ${code} before it was ready`))
    child.once('exit', onExit)
    lines.once('line', (line) => {
      child.off('exit', onExit)
      try {
        resolve(JSON.parse(line) as T)
      } catch (err) {
        reject(err)
      }
    })
  })
}

/** Starts `bench/server.ts` with `args` and waits until it listens; `nodeFlags` e.g. `--cpu-prof`. */
export async function startServer (name: string, args: readonly string[], nodeFlags: readonly string[] = []): Promise<ServerChild> {
  return await serverChild(name, spawnScript('./server.ts', args, nodeFlags))
}

/**
 * Starts a compiled server script (bench/build.ts) with plain `node`, no loader, and waits until
 * it listens.
 */
export async function startCompiledServer (name: string, script: string, args: readonly string[], nodeFlags: readonly string[] = []): Promise<ServerChild> {
  return await serverChild(name, spawn(process.execPath, [...nodeFlags, script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] }))
}

async function serverChild (name: string, child: ChildProcess): Promise<ServerChild> {
  const { port } = await firstJsonLine<{ port: number }>(child, `server ${name}`)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    name,
    pid: child.pid!,
    port,
    url: `http://127.0.0.1:${port}`,
    async stop () {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}

/** Runs `bench/clear.ts` and resolves its JSON report. */
export async function runClearJob<T> (args: readonly string[]): Promise<T> {
  const child = spawnScript('./clear.ts', args)
  const report = await firstJsonLine<T>(child, 'cleartokens job')
  await new Promise((resolve) => child.exitCode === null ? child.once('exit', resolve) : resolve(null))
  return report
}

/** Resident set size of a process: current and peak (VmRSS, VmHWM), in MiB. */
export interface Rss {
  readonly rssMiB: number
  readonly peakMiB: number
}

/** Reads `/proc/<pid>/status` (Linux). */
export function readRss (pid: number): Rss {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
  return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 }
}

/** CPU time (user + system, every thread) a process has used, ms; from `/proc/<pid>/stat` (USER_HZ = 100). */
export function cpuMillis (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}
