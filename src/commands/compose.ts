import * as Flags from '@oclif/core/flags'

import { BerthCommand } from '../cli/baseCommand.js'
import { envArg } from '../cli/shared.js'
import type { ColourChoice } from '../strategy/strategy.js'
import { compose, type ComposeResult } from '../run/compose.js'
import { UsageError } from '../errors.js'

export default class Compose extends BerthCommand {
  static override description = `Run any docker compose command on ENV's project, compose files and env file; exits with compose's exit code.
Everything after -- goes to compose; berth's own flags (--config) come before it. Output is masked, except an interactive exec, run or attach on a terminal.`

  static override examples = [
    '<%= config.bin %> compose staging -- ps',
    '<%= config.bin %> compose production -- exec web sh',
    '<%= config.bin %> compose production -- exec -T db pg_dump -U shop shop > shop.sql',
    '<%= config.bin %> compose production --colour live -- exec web sh',
  ]

  static override usage = 'compose ENV [-c <value>] [--colour live|idle|blue|green] -- COMPOSE_ARGS...'

  static override args = { env: envArg }

  static override flags = {
    colour: Flags.string({
      options: ['live', 'idle', 'blue', 'green'],
      description: "blue-green only: address that colour's project (as last applied) instead of the stateful project",
    }),
  }

  // Compose's arguments follow `--`; the output is compose's own, so there is no --json.
  static override strict = false
  static override enableJsonFlag = false

  async run(): Promise<ComposeResult> {
    const cut = this.argv.indexOf('--')
    const composeArgs = cut === -1 ? [] : this.argv.slice(cut + 1)
    const { args, argv, flags } = await this.parse(Compose, cut === -1 ? this.argv : this.argv.slice(0, cut))
    if (argv.length > 1) {
      throw new UsageError(`compose's arguments go after --: ${argv.slice(1).join(' ')}`, `For example: berth compose ${args.env} -- ${argv.slice(1).join(' ')}`)
    }
    const config = await this.loadConfig(flags.config)
    const result = await compose(
      {
        config,
        envName: args.env,
        args: composeArgs,
        terminal: Boolean(process.stdin.isTTY && process.stdout.isTTY),
        ...(flags.colour ? { colour: flags.colour as ColourChoice } : {}),
      },
      await this.deps(config, args.env),
      { stdout: (line) => process.stdout.write(`${line}\n`), stderr: (line) => process.stderr.write(`${line}\n`) },
    )
    process.exitCode = result.exitCode
    return result
  }
}
