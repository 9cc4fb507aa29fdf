import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import { describe, expect, it } from 'vitest'

const commands = fileURLToPath(new URL('../../../src/commands', import.meta.url))

describe("berth's command arguments", () => {
  it('are never read from stdin (oclif takes a missing argument from a stdin that is not a terminal unless told not to)', async () => {
    const files = readdirSync(commands).filter((f) => f.endsWith('.ts'))
    expect(files.length).toBeGreaterThan(10)
    const withArgs: string[] = []
    for (const file of files) {
      const { default: command } = (await import(`${commands}/${file}`)) as { default: { args?: Record<string, { ignoreStdin?: boolean }> } }
      for (const [name, arg] of Object.entries(command.args ?? {})) {
        withArgs.push(`${file} ${name}`)
        expect(arg.ignoreStdin, `${file}: argument ${name}`).toBe(true)
      }
    }
    expect(withArgs.length).toBeGreaterThanOrEqual(4)
  })
})
