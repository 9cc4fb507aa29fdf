/** One line of `docker ps --format` as berth asks for it (psAll), for a running container unless `over` says otherwise. */
export function psLine(name: string, labels: Record<string, string>, over: Record<string, string> = {}): string {
  return JSON.stringify({
    ID: `${name}-id`,
    Names: name,
    Image: 'img',
    State: 'running',
    Status: 'Up 5 minutes',
    Ports: '',
    Labels: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(','),
    CreatedAt: '2026-11-22 09:30:05 +0000 UTC',
    ...over,
  })
}

/** The labels compose puts on a container it created for a service of a project. */
export const composeLabels = (project: string, service: string) => ({
  'com.docker.compose.project': project,
  'com.docker.compose.service': service,
  'com.docker.compose.oneoff': 'False',
  'com.docker.compose.config-hash': 'a'.repeat(64),
})
