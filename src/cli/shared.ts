import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

/** The arguments and flags several commands take, declared once. */

/** ENV: the environment a command acts on. */
export const envArg = Args.string({ description: 'environment name', required: true })

/** --yes: what confirm: true environments ask before deploy, rollback and down. */
export const yesFlag = Flags.boolean({ char: 'y', description: 'do not ask for confirmation (needed without a TTY for confirm: true environments)' })
