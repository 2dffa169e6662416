#!/usr/bin/env node
// The `fastify-oauth-toolkit` executable: a thin shell around `runCli`, which does the work.
import { runCli } from './run.js'

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env })
