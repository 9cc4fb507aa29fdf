import type { Config, EnvironmentConfig } from '../config/types.js'
import { dockerCli, type Engine } from '../docker/engine.js'
import type { Runner } from '../docker/runner.js'
import { BerthError } from '../errors.js'
import { type Deps, onTarget } from '../run/context.js'
import type { Target } from '../target/target.js'
import { missingImages } from './prepare.js'

/**
 * SPEC §10 promotion across engines: `deploy ENV --tag T` when T's images were built on another environment's
 * engine streams them from that engine to ENV's (`docker save` there piped into `docker load` here: no
 * registry, no file), then checks the same image IDs arrived. Nothing is rebuilt.
 */

/** The images as one tar stream on stdout. */
export function imageSave(engine: Engine, refs: readonly string[]): string[] {
  return [...dockerCli(engine), 'image', 'save', ...refs]
}

/** Loads a tar stream of images from stdin, tags included. */
export function imageLoad(engine: Engine): string[] {
  return [...dockerCli(engine), 'image', 'load']
}

/** Each image's ID and size, one `ID SIZE` line per ref, in the order given. */
export function imageIdentities(engine: Engine, refs: readonly string[]): string[] {
  return [...dockerCli(engine), 'image', 'inspect', '--format', '{{.Id}} {{.Size}}', ...refs]
}

/** Where a promoted release's images are copied from, found before anything changes. */
export interface ImageSource {
  /** An engine that has every one of the release's built images. */
  from: Target
  /** The release's built images: all of them must have the same IDs on both engines after the copy. */
  refs: string[]
  /** Those the deploy's engine lacks: what crosses. */
  missing: string[]
}

/** What the other engines answered: the first with every image, else who had some and who could not be asked. */
export interface SourceSearch {
  source?: Target
  partial: { target: Target; has: string[] }[]
  unreachable: { target: Target; why: string }[]
}

/** Every other environment's engine, once each (environments on one engine share its target), never the deploy's own. */
export function otherEngines(deps: Pick<Deps, 'target' | 'targetOf'>, config: Pick<Config, 'environments'>): EnvironmentConfig[] {
  const seen = new Set<Target>([deps.target])
  const out: EnvironmentConfig[] = []
  for (const env of config.environments.values()) {
    const target = deps.targetOf(env)
    if (seen.has(target)) continue
    seen.add(target)
    out.push(env)
  }
  return out
}

/**
 * Asks every candidate at once which of `refs` it lacks; the first that lacks none wins, without waiting for the
 * others (an unreachable host must not hold up a promotion that does not need it). When none has them all,
 * every answer is in: who has some, who could not be asked.
 */
export function firstWithAll(candidates: readonly Target[], refs: readonly string[], lacks: (target: Target) => Promise<string[]>): Promise<SourceSearch> {
  const search: SourceSearch = { partial: [], unreachable: [] }
  return new Promise((resolve) => {
    let left = candidates.length
    if (left === 0) resolve(search)
    for (const target of candidates) {
      lacks(target)
        .then(
          (missing) => {
            if (missing.length === 0) resolve({ ...search, source: target })
            else if (missing.length < refs.length) search.partial.push({ target, has: refs.filter((r) => !missing.includes(r)) })
          },
          (error: unknown) => {
            search.unreachable.push({ target, why: (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '' })
          },
        )
        .finally(() => {
          if (--left === 0) resolve(search)
        })
    }
  })
}

/** The other environments' engines, asked for `refs` with the same image listing the deploy's own engine was asked. */
export async function findImageSource(deps: Deps, config: Pick<Config, 'environments'>, refs: readonly string[]): Promise<SourceSearch> {
  const envs = otherEngines(deps, config)
  const byTarget = new Map(envs.map((env) => [deps.targetOf(env), env]))
  return firstWithAll([...byTarget.keys()], refs, (target) => missingImages(onTarget(deps, byTarget.get(target) as EnvironmentConfig), refs))
}

/**
 * Under the lock, before the strategy applies: streams the images `to` lacks from the source's engine, then
 * checks that every built image of the release has the source's ID on `deps.target`. A mismatch (the tag names
 * another build there) fails before anything runs the copy.
 */
export async function copyReleaseImages(deps: Deps, source: ImageSource, tag: string): Promise<void> {
  const { from } = source
  const to = deps.target
  await deps.reporter.step(`copy ${tag}'s images from ${from.description} to ${to.description}`, async (update) => {
    const sent = await identities(from.run, from.engine, source.refs)
    const bytes = source.missing.reduce((sum, ref) => sum + (sent.get(ref)?.size ?? 0), 0)
    update(`sending ${source.missing.length} image${source.missing.length === 1 ? '' : 's'}, every layer: up to ${(bytes / 1e6).toFixed(1)} MB`)
    await deps.run(imageLoad(to.engine), { pipeFrom: imageSave(from.engine, source.missing) })
    const landed = await identities(deps.run, to.engine, source.refs)
    const differ = source.refs.filter((ref) => landed.get(ref)?.id !== sent.get(ref)?.id)
    if (differ.length === 0) return
    const shown = differ.map((ref) => `${ref} is ${landed.get(ref)?.id} there but ${sent.get(ref)?.id} on ${from.description}`)
    throw new BerthError(
      `the images of ${tag} on ${to.description} are not the ones on ${from.description}: ${shown.join('; ')}; nothing runs them yet`,
      'UNEXPECTED',
      `The tag names another build on ${to.description}. Compare with docker image inspect on both engines; remove the wrong one there (docker image rm ${differ.join(' ')}) and deploy again.`,
    )
  })
}

async function identities(run: Runner, engine: Engine, refs: readonly string[]): Promise<Map<string, { id: string; size: number }>> {
  const { stdout } = await run(imageIdentities(engine, refs))
  const lines = stdout.split('\n').filter(Boolean)
  return new Map(
    refs.map((ref, i) => {
      const [id = '', size = '0'] = (lines[i] ?? '').trim().split(/\s+/)
      return [ref, { id, size: Number(size) || 0 }]
    }),
  )
}
