import { dirname, join } from 'node:path'

import { BerthError } from '../errors.js'
import type { Files } from '../target/files.js'
import { maintenanceMarker } from './caddy.js'
import { EdgeUnavailableError } from './errors.js'

/**
 * SPEC §9 maintenance pages on the host: `<live dir>/<app>/<env>/maintenance.html`, beside the environment's
 * live marker. While the file exists the edge answers the environment's routes with it, 503 (see caddy.ts),
 * so turning maintenance on or off is one rename or one unlink, never a config change: nothing reloads, and
 * no keep-alive client of another route is closed. The file is on the host, so it survives edge restarts.
 */

/** What status shows of an environment in maintenance. */
export interface Maintenance {
  /** When it was turned on (ISO time); kept when the page's message changes. */
  since: string
  /** The operator's message; none: the default text. */
  message?: string
}

export const MESSAGE_MAX = 1000
export const DEFAULT_MESSAGE = 'This service is down for maintenance and will be back shortly.'

/** What is wrong with a `--message`, or undefined. */
export function messageProblem(message: string): string | undefined {
  if (message.trim() === '') return '--message is empty'
  if (message.length > MESSAGE_MAX) return `--message is ${message.length} characters long; a page takes at most ${MESSAGE_MAX}`
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(message)) return '--message holds control characters (only newlines and tabs are kept)'
  return undefined
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** The page's facts, as JSON in a comment at its top: with <, > and & escaped, no text can end the comment early. */
const FACTS = /^<!-- berth maintenance (\{.*\}) -->$/m

function factsComment(m: Maintenance): string {
  const json = JSON.stringify({ since: m.since, ...(m.message !== undefined ? { message: m.message } : {}) }).replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  return `<!-- berth maintenance ${json} -->`
}

/** The maintenance page: a small self-contained HTML page with the operator's message, escaped (newlines kept as line breaks). */
export function maintenancePage(m: Maintenance): string {
  const text = escapeHtml(m.message ?? DEFAULT_MESSAGE).replace(/\r?\n/g, '<br>\n')
  return [
    '<!doctype html>',
    factsComment(m),
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex">',
    '<title>Down for maintenance</title>',
    '<style>body{font:1.1rem/1.5 system-ui,sans-serif;max-width:36rem;margin:15vh auto;padding:0 1.5rem;color:#222}h1{font-size:1.6rem}</style>',
    '</head>',
    '<body>',
    '<h1>Down for maintenance</h1>',
    `<p>${text}</p>`,
    '</body>',
    '</html>',
    '',
  ].join('\n')
}

/** The facts of a page berth wrote; undefined for one it did not (written by hand). */
export function pageFacts(page: string): Maintenance | undefined {
  const m = FACTS.exec(page)
  if (!m) return undefined
  try {
    const facts = JSON.parse(m[1] as string) as { since?: unknown; message?: unknown }
    if (typeof facts.since !== 'string') return undefined
    return { since: facts.since, ...(typeof facts.message === 'string' ? { message: facts.message } : {}) }
  } catch {
    return undefined
  }
}

function pagePath(liveDir: string, app: string, env: string): string {
  return join(liveDir, maintenanceMarker(app, env))
}

/** The environment's maintenance, when its page is in place; a page berth did not write counts, since its last change. */
export async function readMaintenance(files: Files, liveDir: string, app: string, env: string): Promise<Maintenance | undefined> {
  const path = pagePath(liveDir, app, env)
  const text = await files.read(path).catch((error: NodeJS.ErrnoException) => {
    throw accessError(liveDir, error)
  })
  if (text === undefined) return undefined
  const st = await files.stat(path)
  return pageFacts(text) ?? { since: new Date(st?.mtimeMs ?? 0).toISOString() }
}

/** Puts the page in place, whole at once (written beside it, then renamed), readable by the edge; made durable before berth records it. */
export async function writeMaintenance(files: Files, liveDir: string, app: string, env: string, page: string): Promise<void> {
  const path = pagePath(liveDir, app, env)
  const dir = dirname(path)
  try {
    await files.mkdir(dir, 0o755)
    // Not named like the page: the edge never sees half of one.
    const tmp = join(dir, `.maintenance.${process.pid}`)
    await files.remove(tmp)
    await files.createExclusive(tmp, page, 0o644)
    await files.rename(tmp, path)
    await files.syncDir(dir)
  } catch (error) {
    throw error instanceof BerthError ? error : accessError(liveDir, error as NodeJS.ErrnoException)
  }
}

/** Removes the page; false when there was none. */
export async function removeMaintenance(files: Files, liveDir: string, app: string, env: string): Promise<boolean> {
  const path = pagePath(liveDir, app, env)
  try {
    if (!(await files.stat(path))) return false
    await files.remove(path)
    await files.syncDir(dirname(path))
    return true
  } catch (error) {
    throw accessError(liveDir, error as NodeJS.ErrnoException)
  }
}

function accessError(liveDir: string, error: NodeJS.ErrnoException): EdgeUnavailableError {
  return new EdgeUnavailableError(
    `cannot change the maintenance page under ${liveDir} (${error.code ?? error.message})`,
    error.code === 'EACCES' || error.code === 'EPERM'
      ? `Maintenance pages are written under ${liveDir}, which the edge mounts: run berth as root, or give its user write access to that directory.`
      : 'See: berth doctor',
  )
}
