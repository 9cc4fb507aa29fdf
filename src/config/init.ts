import { existsSync } from 'node:fs'
import { access, mkdir, readFile, writeFile } from 'node:fs/promises'
import { basename, dirname, join, relative, resolve } from 'node:path'

import { UsageError } from '../errors.js'
import { NAME_PATTERN, NAME_RULE } from './rules.js'
import { DEFAULT_COMPOSE_FILES } from './load.js'

/** `berth init`: a starting deploy.yml, env file examples and .gitignore entries (SPEC §4). */

/** The compose files loadConfig looks for when deploy.yml names none, in its order. */

export const INIT_ENVIRONMENTS = ['staging', 'production'] as const

/** State holds resolved configs with secrets; env files hold secrets; the examples are meant to be committed. */
export const GITIGNORE_ENTRIES = ['.berth/', 'environments/*.env', '!environments/*.env.example']

/** A valid app name from a directory name: `My Shop_2` → `my-shop-2`; `app` when nothing usable is left. */
export function appNameFrom(directoryName: string): string {
  const name = directoryName
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, 31)
    .replace(/-+$/, '')
  return NAME_PATTERN.test(name) ? name : 'app'
}

/** Where a project's own berth keeps its schema: berth installed as a dev dependency (package.json's files ship schema/). */
export const PROJECT_SCHEMA = join('node_modules', 'berth', 'schema', 'deploy.schema.json')

/**
 * The `$schema` of a new deploy.yml: the schema of the berth installed in the project (node_modules of deploy.yml's
 * directory, or of a directory above it inside the same checkout), relative to deploy.yml so it travels with the
 * repository. undefined when the project has none: a path into a global install (or into the single executable)
 * names nothing once the file is checked out elsewhere.
 */
export function schemaReference(configDir: string, exists: (path: string) => boolean = existsSync): string | undefined {
  for (let dir = configDir; ; dir = dirname(dir)) {
    const schema = join(dir, PROJECT_SCHEMA)
    if (exists(schema)) return dir === configDir ? `./${PROJECT_SCHEMA}` : relative(configDir, schema)
    if (exists(join(dir, '.git')) || dirname(dir) === dir) return undefined
  }
}

/** The first lines of deploy.yml: the modeline editors read, or how to get one. */
function schemaLines(schema: string | undefined): string {
  if (schema !== undefined) return `# yaml-language-server: $schema=${schema}`
  return `# Completion in editors: install berth in this project (npm install --save-dev berth), then make the first line
# of this file "# yaml-language-server: $schema=./${PROJECT_SCHEMA}" (berth init writes it so when berth is there).`
}

/** Variables a compose file interpolates (`${VAR}`, `${VAR:-x}`, `$VAR`; not `$$`), in order of appearance. */
export function composeVariables(text: string): string[] {
  const found = new Set<string>()
  for (const m of text.matchAll(/\$(\$)|\$\{([A-Za-z_][A-Za-z0-9_]*)|\$([A-Za-z_][A-Za-z0-9_]*)/g)) {
    const name = m[2] ?? m[3]
    if (name) found.add(name)
  }
  return [...found]
}

function yamlFlowItem(value: string): string {
  return /^[\w./-]+$/.test(value) ? value : JSON.stringify(value)
}

export function deployYml(o: { app: string; schema: string | undefined; compose: string; variables: readonly string[] }): string {
  const required = o.variables.length ? `[${o.variables.join(', ')}]` : '[DATABASE_URL]'
  return `${schemaLines(o.schema)}
# berth: each environment runs as its own compose project, ${o.app}-<env>, with its own env file.
# Paths are relative to this file.

app: ${o.app}
compose: [${yamlFlowItem(o.compose)}]

health:                              # defaults for every environment, overridable key by key
  timeout: 120s                      # the whole wait for healthy containers (and probes)
  interval: 2s
  # http:                            # probes from the host, after the containers' own healthchecks
  #   - url: http://127.0.0.1:\${WEB_PORT}/health   # \${VAR} comes from the environment's env file
  #     status: 200

releases:
  keep: 5                            # releases (and their images) kept per environment for rollback

environments:
  staging:
    env_file: environments/staging.env         # the only source of staging's compose variables
    # required: ${required}   # must be set and non-empty before a deploy changes anything
  production:
    env_file: environments/production.env
    # required: ${required}
    confirm: true                    # deploy, rollback and down ask first (or need --yes without a terminal)
`
}

export function envExample(env: string, variables: readonly string[]): string {
  const body = variables.length ? variables.map((v) => `${v}=`).join('\n') : '# NAME=value'
  return `# Copy to environments/${env}.env and fill in the values; env files are never committed (.gitignore).
# It is the only source of ${env}'s compose variables: berth ignores the shell's environment.
# Values of variables named like *SECRET*, *PASSWORD*, *TOKEN* or *KEY* are masked in berth's output.
${body}
`
}

/** `.berth`, `/.berth/` and `.berth/` ignore the same thing here. */
function gitignoreKey(line: string): string {
  return line.trim().replace(/^(!?)\//, '$1').replace(/\/$/, '')
}

/** The .gitignore with berth's entries appended, only those it lacks; undefined when it has them all. */
export function mergeGitignore(existing: string | undefined): { text: string; added: string[] } | undefined {
  const have = new Set((existing ?? '').split(/\r?\n/).map(gitignoreKey))
  const added = GITIGNORE_ENTRIES.filter((entry) => !have.has(gitignoreKey(entry)))
  if (added.length === 0) return undefined
  const before = existing === undefined || existing === '' ? '' : existing.endsWith('\n') ? `${existing}\n` : `${existing}\n\n`
  return { text: `${before}# berth: state (resolved configs hold secrets) and env files\n${added.join('\n')}\n`, added }
}

export interface InitRequest {
  /** Absolute path of the deploy.yml to write; the other files go beside it. */
  configFile: string
  /** Default: from the directory's name. */
  app?: string
  /** Overwrite deploy.yml and the examples (the .gitignore is always merged, never replaced). */
  force: boolean
}

export interface InitResult {
  app: string
  /** Absolute paths written. */
  written: string[]
  gitignore: { file: string; added: string[] }
  /** The compose file deploy.yml names, and whether it exists yet. */
  compose: { file: string; exists: boolean }
  /** The `$schema` deploy.yml names (relative to it); undefined when berth is not installed in the project. */
  schema?: string
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/** Writes the starting files; refuses before writing anything when one exists, unless forced. */
export async function init(req: InitRequest): Promise<InitResult> {
  const dir = dirname(req.configFile)
  const app = req.app ?? appNameFrom(basename(dir))
  if (!NAME_PATTERN.test(app)) throw new UsageError(`--app ${JSON.stringify(app)}: app names ${NAME_RULE}`, undefined, 'INVALID_APP')

  const files = [req.configFile, ...INIT_ENVIRONMENTS.map((env) => join(dir, 'environments', `${env}.env.example`))]
  if (!req.force) {
    const present = (await Promise.all(files.map(async (f) => ((await exists(f)) ? f : undefined)))).filter((f) => f !== undefined)
    if (present.length > 0) {
      throw new UsageError(
        `${present.join(', ')} already ${present.length === 1 ? 'exists' : 'exist'}; berth init never overwrites a file`,
        `Edit ${present.length === 1 ? 'it' : 'them'}, or run berth init --force to replace deploy.yml and the env file examples.`,
        'INIT_EXISTS',
      )
    }
  }

  let compose = DEFAULT_COMPOSE_FILES[0] as string
  let composeText: string | undefined
  for (const candidate of DEFAULT_COMPOSE_FILES) {
    composeText = await readIfExists(join(dir, candidate))
    if (composeText !== undefined) {
      compose = candidate
      break
    }
  }
  const variables = composeText === undefined ? [] : composeVariables(composeText)

  // 'wx' also refuses a file created since the check above.
  const flag = req.force ? 'w' : 'wx'
  await mkdir(join(dir, 'environments'), { recursive: true })
  const schema = schemaReference(dir)
  await writeFile(req.configFile, deployYml({ app, schema, compose, variables }), { flag })
  for (const env of INIT_ENVIRONMENTS) await writeFile(join(dir, 'environments', `${env}.env.example`), envExample(env, variables), { flag })

  const gitignore = join(dir, '.gitignore')
  const merged = mergeGitignore(await readIfExists(gitignore))
  if (merged) await writeFile(gitignore, merged.text)
  return { app, written: files.map((f) => resolve(f)), gitignore: { file: gitignore, added: merged?.added ?? [] }, compose: { file: join(dir, compose), exists: composeText !== undefined }, ...(schema !== undefined ? { schema } : {}) }
}
