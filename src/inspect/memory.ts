import type { Files } from '../target/files.js'

/**
 * A container's memory as `docker stats` counts it (usage less the inactive page cache), read from its
 * cgroup on the engine's host: a file read, no call to the engine. Cgroup v1 (cgroupfs or systemd driver) and
 * v2 are tried in turn; undefined when none is there (another layout, or no access).
 */
export async function containerMemory(files: Pick<Files, 'read'>, id: string): Promise<number | undefined> {
  for (const dir of cgroupDirs(id)) {
    const [usage, stat] = await Promise.all([files.read(`${dir}/${dir.includes('/memory/') ? 'memory.usage_in_bytes' : 'memory.current'}`).catch(() => undefined), files.read(`${dir}/memory.stat`).catch(() => undefined)])
    const bytes = usage === undefined ? undefined : memoryInUse(usage, stat ?? '')
    if (bytes !== undefined) return bytes
  }
  return undefined
}

/** Where a container's memory cgroup is, per cgroup version and driver. */
export function cgroupDirs(id: string): string[] {
  return [
    `/sys/fs/cgroup/memory/docker/${id}`,
    `/sys/fs/cgroup/memory/system.slice/docker-${id}.scope`,
    `/sys/fs/cgroup/system.slice/docker-${id}.scope`,
    `/sys/fs/cgroup/docker/${id}`,
  ]
}

/** Usage less inactive file cache (v1's total_inactive_file, v2's inactive_file), as docker stats shows it. */
export function memoryInUse(usage: string, stat: string): number | undefined {
  const used = Number.parseInt(usage.trim(), 10)
  if (!Number.isFinite(used)) return undefined
  const field = (name: string) => {
    const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(stat)
    return m ? Number(m[1]) : undefined
  }
  const inactive = field('total_inactive_file') ?? field('inactive_file') ?? 0
  return Math.max(0, used - (inactive < used ? inactive : 0))
}

/** 12.3 MiB */
export function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KiB`
  if (bytes < 1024 ** 3) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`
}
