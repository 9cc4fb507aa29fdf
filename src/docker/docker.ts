/** Pure builders of plain `docker` argv. Every query filters on labels (SPEC §7). */

export function dockerVersion(): string[] {
  return ['docker', 'version', '--format', '{{json .}}']
}

/** All containers carrying every given label (`key` or `key=value`), one JSON object per line. */
export function psByLabels(labels: readonly string[]): string[] {
  return ['docker', 'ps', '--all', '--no-trunc', ...labels.flatMap((l) => ['--filter', `label=${l}`]), '--format', '{{json .}}']
}

/** All images carrying every given label, one JSON object per line. */
export function imagesByLabels(labels: readonly string[]): string[] {
  return ['docker', 'image', 'ls', ...labels.flatMap((l) => ['--filter', `label=${l}`]), '--format', '{{json .}}']
}

/** Every local image as repository:tag, one per line. */
export function imageRefs(): string[] {
  return ['docker', 'image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']
}

export function imageRemove(refs: readonly string[]): string[] {
  return ['docker', 'image', 'rm', ...refs]
}

export function gitDescribe(): string[] {
  return ['git', 'describe', '--always', '--dirty']
}
