/** One finding of `berth doctor`: ok, warn or fail, with what was found and what to do. */
export type CheckStatus = 'ok' | 'warn' | 'fail'

export type CheckId =
  | 'engine'
  | 'compose'
  | 'restart-policies'
  | 'unmanaged'
  | 'drift'
  | 'ports'
  | 'shared-networks'
  | 'network-pools'
  | 'env-files'
  | 'locks'
  | 'state'
  | 'disk'
  | 'edge'

export interface Check {
  id: CheckId
  status: CheckStatus
  summary: string
  /** One line per finding. */
  details: string[]
  /** What to do, when the status is not ok. */
  hint?: string
  /** The engine checked, when it is not the shell's (SPEC §10): "ssh://deploy@10.0.0.5". */
  engine?: string
}

/** "s" after a count other than one. */
export function plural(n: number): string {
  return n === 1 ? '' : 's'
}
