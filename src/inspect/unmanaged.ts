import type { Container } from '../docker/parse.js'
import { COLOURS, colourProject, LABEL, projectName } from '../names.js'
import { repositoryOf } from '../release/model.js'
import { byCodePoint } from '../order.js'

/** name: named like the app's containers · image: from an `<app>-<service>` image · label: from an image berth built for the app · project: of a compose project that is no environment of deploy.yml. */
export type UnmanagedReason = 'name' | 'image' | 'label' | 'project'

export interface UnmanagedContainer {
  name: string
  id: string
  image: string
  state: string
  status: string
  reasons: UnmanagedReason[]
  /** The compose project it belongs to, when it belongs to one that is not an environment. */
  project?: string
  /** The environment it most likely stood in for, when its labels or name say so. */
  environment?: string
  /** What brings it back under berth. */
  command: string
}

/**
 * SPEC §7, seed 000: containers that look like the app's — by name, image or the labels its images carry —
 * but belong to none of its environments' compose projects: started with `docker run`, or by compose under
 * another project name. They have no release record, and usually no restart policy (seed 001).
 */
export function findUnmanaged(app: string, envNames: readonly string[], containers: readonly Container[]): UnmanagedContainer[] {
  // Colour projects of blue-green environments are the environment's too.
  const projects = new Set(envNames.flatMap((e) => [projectName(app, e), ...COLOURS.map((c) => colourProject({ project: projectName(app, e) }, c))]))
  const prefixed = (s: string) => s.startsWith(`${app}-`) || s.startsWith(`${app}_`)
  const out: UnmanagedContainer[] = []
  for (const c of containers) {
    const project = c.project
    if (project && projects.has(project)) continue
    const otherApp = c.labels[LABEL.app] !== undefined && c.labels[LABEL.app] !== app
    if (otherApp) continue
    const reasons: UnmanagedReason[] = []
    if (prefixed(c.name)) reasons.push('name')
    const repository = repositoryOf(c.image).split('/').pop() ?? ''
    if (repository.startsWith(`${app}-`)) reasons.push('image')
    if (c.labels[LABEL.app] === app) reasons.push('label')
    if (project) {
      // Another compose project is only the app's when berth built it (a removed environment) or it bears
      // the app's name (`docker compose up` by hand in the app's directory): a sibling stack named
      // shop-monitoring is not ours to report.
      if (c.labels[LABEL.app] !== app && project !== app) continue
      reasons.push('project')
    }
    if (reasons.length === 0) continue
    const environment = guessEnvironment(app, envNames, c)
    out.push({
      name: c.name,
      id: c.id,
      image: c.image,
      state: c.state,
      status: c.status,
      reasons,
      ...(project ? { project } : {}),
      ...(environment ? { environment } : {}),
      command: bringBackCommand(c, environment),
    })
  }
  return out.sort((a, b) => byCodePoint(a.name, b.name))
}

/** From the berth.env label, else from a name like `<app>-<env>-web-1` or `<app>_<env>_web_1` (the longest env name that fits). */
export function guessEnvironment(app: string, envNames: readonly string[], c: Pick<Container, 'name' | 'labels' | 'project'>): string | undefined {
  const labelled = c.labels[LABEL.env]
  // The label is authoritative: an environment deploy.yml no longer has is not guessed from the name.
  if (labelled) return envNames.includes(labelled) ? labelled : undefined
  for (const candidate of [c.project, c.name]) {
    if (!candidate) continue
    const rest = candidate.replace(new RegExp(`^${escapeRegExp(app)}[-_]`), '')
    if (rest === candidate) continue
    const found = [...envNames].sort((a, b) => b.length - a.length).find((e) => rest === e || rest.startsWith(`${e}-`) || rest.startsWith(`${e}_`))
    if (found) return found
  }
  return undefined
}

function bringBackCommand(c: Container, environment: string | undefined): string {
  const project = c.project
  const remove = project ? `docker compose -p ${project} down` : `docker rm -f ${c.name}`
  // A removed environment (berth.env names one deploy.yml no longer has) has nothing to deploy again.
  if (!environment && c.labels[LABEL.env] && project) return remove
  return `${remove} && berth deploy ${environment ?? 'ENV'}`
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
