import { describeSharedName, type SharedNameFinding } from '../../preflight/sharedNetworks.js'
import { type Check, plural } from '../check.js'

/** SPEC §7: a service answering to the same name as another environment's on a shared network. */
export function sharedNetworkCheck(findings: readonly SharedNameFinding[]): Check {
  if (findings.length === 0) return { id: 'shared-networks', status: 'ok', summary: 'no service shares its name with another environment on a shared network', details: [] }
  const refused = findings.filter((f) => !f.accepted)
  return {
    id: 'shared-networks',
    status: 'warn',
    summary: `${findings.length} service name${plural(findings.length)} answered by more than one environment on a shared network`,
    details: findings.map((f) => `${f.environment}: ${describeSharedName(f)}`),
    hint:
      'A client on that network asking for the name reaches both environments. Give each environment its own network (name: platform-${APP_ENV} from the env file)' +
      (refused.length ? `; ${[...new Set(refused.map((f) => f.environment))].join(', ')} did not accept it under shared_networks, and its next deploy is refused` : ''),
  }
}
