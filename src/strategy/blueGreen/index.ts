import { COLOURS, colourProject, otherColour } from '../../names.js'
import { readColours } from '../../state/colours.js'
import { composeDrift } from '../composeDrift.js'
import type { Strategy } from '../strategy.js'
import { applyBlueGreen } from './apply.js'
import { edgeCheck } from './doctor.js'
import { colourStatus, composeProject, downBlueGreen, logProjects, servingProjects } from './operate.js'
import { maintenance } from './maintenance.js'
import { beforeChange, plan } from './preflight.js'
import { watchBlueGreen } from './watch.js'

/**
 * `strategy: blue-green` (SPEC §9): the stateless services run as two colour projects, <app>-<env>-blue and
 * <app>-<env>-green, beside the stateful project <app>-<env>; the host's edge proxy routes to the live one.
 */
export const blueGreen: Strategy = {
  name: 'blue-green',
  colours: COLOURS,
  projects: (env) => [env.project, ...COLOURS.map((c) => colourProject(env, c))],
  beforeChange,
  preflight: (deps, e, model) => plan(deps, e, model),
  // A failure has already left the live colour serving (or nothing live): there is nothing more to restore.
  switchesTo: async (_deps, e, release) => {
    if (e.env.idle !== 'running') return false
    const state = await readColours(e.target.state, e.env.name)
    const idle = state.live ? otherColour(state.live) : undefined
    return idle !== undefined && state[idle]?.configFile === release.configFile
  },
  apply: (deps, e, release, options) => applyBlueGreen(deps, e, release, options),
  watch: (deps, e, release, windowMs, signal) => watchBlueGreen(deps, e, release, windowMs, signal),
  serving: servingProjects,
  composeProject: (_deps, e, colour) => composeProject(e, colour),
  logProjects: (_deps, e, _running, service) => logProjects(e, service),
  down: downBlueGreen,
  drift: (deps, config, env, active, containers, version) => composeDrift(blueGreen, deps, config, env, active, containers, version),
  shown: (containers) => [...containers],
  describe: async (deps, config, env, containers) => ({ colours: await colourStatus(deps, config, env, containers) }),
  hostChecks: async (deps, config, envs) => [await edgeCheck(deps, config, envs)],
  maintenance,
}
