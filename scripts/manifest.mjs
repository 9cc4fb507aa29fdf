// Writes oclif.manifest.json after the build, so `berth --version`, `--help` and every command start
// without importing all the command modules to discover their flags.
import { rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { Config } from '@oclif/core'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
// A manifest left from an earlier build would still point oclif at the command files it named.
rmSync(join(root, 'oclif.manifest.json'), { force: true })
const config = await Config.load({ root, ignoreManifest: true })
const plugin = config.plugins.get(config.pjson.name)
writeFileSync(join(root, 'oclif.manifest.json'), `${JSON.stringify(plugin.manifest, null, 2)}\n`)
