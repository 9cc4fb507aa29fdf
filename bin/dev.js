#!/usr/bin/env node
// Development entry: compiles src/ first, so a change is picked up without a separate build step.
import { execFileSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { execute } from '@oclif/core'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
await execute({ development: true, dir: import.meta.url })
