import { Command } from '@oclif/core/command'
import * as Flags from '@oclif/core/flags'
import type { InferredFlags } from '@oclif/core/interfaces'

import { loadConfig } from '../config/load.js'
import type { Config } from '../config/types.js'
import { defaultDeps, type Deps } from '../run/context.js'
import { createTargets, type Targets } from '../target/targets.js'
import { BerthError, ExitCode } from '../errors.js'
import { mask } from '../secrets.js'
import { confirm } from '../ui/confirm.js'
import { chooseRenderer } from '../ui/renderer.js'
import { createReporter } from '../ui/reporter.js'

export type BaseFlags<T extends typeof Command> = InferredFlags<(typeof BerthCommand)['baseFlags'] & T['flags']>

/**
 * Shared by every command: --config and --json, the reporter choice, and the mapping of errors to the
 * exit codes of SPEC §4. Commands stay thin: parse, call one service, render.
 */
export abstract class BerthCommand extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    config: Flags.string({ char: 'c', env: 'BERTH_CONFIG', description: 'path to deploy.yml (default: ./deploy.yml)', helpGroup: 'GLOBAL' }),
  }

  protected async loadConfig(file: string | undefined): Promise<Config> {
    return loadConfig({ file, cwd: process.cwd() })
  }

  private targets: Targets | undefined

  /**
   * The services' dependencies: the reporter of this terminal and every environment's target (SPEC §10);
   * `envName`'s is the one the command is about (an unknown name is left for the service to refuse).
   */
  protected async deps(config: Config, envName?: string): Promise<Deps> {
    // A terminal without a size (script(1), some SSM consoles) cannot host a live view: treat it as none.
    const isTTY = Boolean(process.stderr.isTTY && process.stderr.columns)
    const kind = chooseRenderer({ isTTY, env: process.env, json: this.jsonEnabled() })
    const reporter = createReporter(kind)
    const targets = await createTargets(config, { reporter })
    this.targets = targets
    const env = envName === undefined ? undefined : config.environments.get(envName)
    return defaultDeps(reporter, env ? targets.of(env) : targets.local(), (e) => targets.of(e))
  }

  /** Ends the run's SSH connections, whatever the outcome. */
  protected override async finally(error: Error | undefined): Promise<unknown> {
    await this.targets?.close().catch(() => undefined)
    return super.finally(error)
  }

  protected confirmer(yes: boolean): (question: string) => Promise<boolean> {
    return (question) => confirm(question, { yes, isTTY: Boolean(process.stdin.isTTY && process.stderr.isTTY) })
  }

  /** The command as typed, for locks and the audit trail. */
  protected commandLine(): string {
    return ['berth', this.id ?? '', ...this.argv].join(' ')
  }

  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (error instanceof BerthError) {
      if (this.jsonEnabled()) this.logJson({ ok: false, error: error.toJSON() })
      process.stderr.write(`error: ${mask(error.message)}\n${error.hint ? `hint: ${mask(error.hint)}\n` : ''}`)
      process.exitCode = error.exitCode
      return undefined
    }
    // oclif's own parse errors (unknown flag, missing argument) are usage errors: exit 2.
    if (error.oclif?.exit !== undefined && error.oclif.exit !== 0 && error.name !== 'ExitError') {
      process.stderr.write(`error: ${mask(error.message)}\nhint: see berth ${this.id ?? ''} --help\n`)
      process.exitCode = ExitCode.usage
      return undefined
    }
    if (error.name === 'ExitError') throw error
    if (this.jsonEnabled()) this.logJson({ ok: false, error: { code: 'UNEXPECTED', exitCode: 1, message: mask(error.message) } })
    process.stderr.write(`error: ${mask(error.message)}\n`)
    if (process.env.BERTH_DEBUG && error.stack) process.stderr.write(`${mask(error.stack)}\n`)
    process.exitCode = ExitCode.unexpected
    return undefined
  }
}
