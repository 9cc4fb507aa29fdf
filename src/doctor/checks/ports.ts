import type { Container } from '../../docker/parse.js'
import { findPortClashes, sharedPorts } from '../../inspect/hostPorts.js'
import type { ComposeModel } from '../../release/model.js'
import type { ActiveRelease } from '../activeRelease.js'
import { type Check, plural } from '../check.js'

/**
 * Seed 003: two environments whose recorded configs publish the same host port cannot both run; and a
 * port the app publishes that a container of another project holds makes the next deploy refuse.
 * `running` undefined: the engine did not answer, so only the recorded configs are compared.
 */
export function portCheck(actives: readonly ActiveRelease[], running: readonly Container[] | undefined): Check {
  const withModel = actives.filter((a): a is ActiveRelease & { model: ComposeModel } => a.model !== undefined)
  const clashes: string[] = []
  withModel.forEach((a, i) => {
    for (const b of withModel.slice(i + 1)) {
      for (const { port, serviceA, serviceB } of sharedPorts(a.model, b.model)) {
        clashes.push(`host port ${port.port}/${port.protocol}: ${a.env.name} (${serviceA}) and ${b.env.name} (${serviceB}) both publish it`)
      }
    }
  })
  if (running) {
    const appProjects = new Set(actives.map((a) => a.env.project))
    const others = running.filter((c) => !appProjects.has(c.project ?? ''))
    for (const a of withModel) {
      for (const c of findPortClashes(a.model, a.env.project, others)) {
        clashes.push(`host port ${c.port}/${c.protocol}: ${a.env.name} (${c.service}) publishes it, and so does ${c.holder}`)
      }
    }
  }
  const checked = `${withModel.length} recorded config${plural(withModel.length)}`
  if (clashes.length === 0) return { id: 'ports', status: 'ok', summary: `no host port published twice (${checked}${running ? ' and the running containers' : ''} compared)`, details: [] }
  return {
    id: 'ports',
    status: 'fail',
    summary: `${clashes.length} host port clash${clashes.length === 1 ? '' : 'es'}`,
    details: clashes,
    hint: "Give each environment its own host ports in its env file (e.g. WEB_PORT) and deploy it again, or stop what holds the port; a deploy is refused while another project publishes one of its ports.",
  }
}
