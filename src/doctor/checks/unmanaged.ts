import { type Check, plural } from '../check.js'
import { type UnmanagedContainer } from '../../inspect/unmanaged.js'

export function unmanagedCheck(unmanaged: readonly UnmanagedContainer[]): Check {
  if (unmanaged.length === 0) return { id: 'unmanaged', status: 'ok', summary: 'no hand-started containers of the app', details: [] }
  return {
    id: 'unmanaged',
    status: 'warn',
    summary: `${unmanaged.length} container${plural(unmanaged.length)} of the app ${unmanaged.length === 1 ? 'is' : 'are'} outside berth's environments`,
    details: unmanaged.map((u) => `${u.name} (${u.image}, ${u.state}${u.project ? `, compose project ${u.project}` : ''}): ${u.command}`),
    hint: 'They have no release record, drift from the compose file and often have no restart policy (seeds 000, 001). Move any setting they were started with into the compose file or env file (see docker inspect NAME), then run the command shown.',
  }
}
