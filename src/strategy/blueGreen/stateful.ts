import { isDeepStrictEqual } from 'node:util'

import { parse, stringify } from 'yaml'

import { imageRunIdentity } from '../../docker/docker.js'
import type { Deps } from '../../run/context.js'
import { LABEL } from '../../names.js'

type Service = Record<string, unknown> & { image?: string; labels?: Record<string, string> }

/**
 * SPEC §9: stateful services are updated in place only when their config changed. Every release carries a
 * new tag — in the berth.release label and, for services berth builds, in the image name — which alone
 * would make compose recreate the database at every deploy. A stateful service whose definition is the
 * same but for those, and whose image runs the same (layers and run configuration), keeps its current
 * definition, so compose leaves its container alone.
 */
export async function keepUnchangedStateful(deps: Deps, next: string, current: string | undefined): Promise<{ yaml: string; kept: string[] }> {
  if (current === undefined) return { yaml: next, kept: [] }
  const nextDoc = parse(next) as { services: Record<string, Service> }
  const currentDoc = parse(current) as { services?: Record<string, Service> } | null
  const kept: string[] = []
  for (const [name, svc] of Object.entries(nextDoc.services)) {
    const now = currentDoc?.services?.[name]
    if (!now || !isDeepStrictEqual(withoutRelease(svc), withoutRelease(now))) continue
    if (svc.image !== now.image && !(await sameImage(deps, svc.image, now.image))) continue
    nextDoc.services[name] = now
    kept.push(name)
  }
  return { yaml: kept.length ? stringify(nextDoc) : next, kept }
}

function withoutRelease(svc: Service): Service {
  const { image: _image, labels, ...rest } = svc
  const { [LABEL.release]: _release, ...otherLabels } = labels ?? {}
  return { ...rest, labels: otherLabels }
}

async function sameImage(deps: Deps, a: string | undefined, b: string | undefined): Promise<boolean> {
  if (!a || !b) return false
  const result = await deps.run(imageRunIdentity(deps.target.engine, [a, b]), { allowFailure: true })
  const [first, second] = result.stdout.trim().split('\n')
  return result.exitCode === 0 && first !== undefined && first === second
}
