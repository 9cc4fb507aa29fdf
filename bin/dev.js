#!/usr/bin/env node
// Development entry: builds first (compile, bundle, manifest), so a change is picked up without a separate build step.
import { execFileSync } from 'node:child_process'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

import { execute } from '@oclif/core'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
await execute({ dir: import.meta.url })
