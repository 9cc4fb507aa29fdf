import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

/** The arguments and flags several commands take, declared once. */

/**
 * ENV: the environment a command acts on. No argument of berth's is read from stdin (`ignoreStdin`): oclif's
 * parser otherwise takes a missing argument from a stdin that is not a terminal, so `echo production | berth
 * deploy` deployed production and `yes | berth status` asked for environment "y", and it waits 10 ms for stdin
 * whenever an optional argument is left out.
 */
export const envArg = Args.string({ description: 'environment name', required: true, ignoreStdin: true })

/** --yes: what confirm: true environments ask before deploy, rollback and down. */
export const yesFlag = Flags.boolean({ char: 'y', description: 'do not ask for confirmation (needed without a TTY for confirm: true environments)' })
