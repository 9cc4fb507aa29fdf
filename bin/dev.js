#!/usr/bin/env node
// Development entry: builds first (compile, bundle, manifest), so a change is picked up without a separate build step.
import { execFileSync } from 'node:child_process'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
const { main } = await import('../dist/bundle/main.js')
await main(import.meta.url)
