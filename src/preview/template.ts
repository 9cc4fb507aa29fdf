/**
 * SPEC §11: a preview's env file is its pattern's env_template with berth's own variables filled in:
 * ${BERTH_ENV} (the preview's name), ${BERTH_APP}, and ${BERTH_PORT_1}, ${BERTH_PORT_2}… (the host ports berth
 * allocated to it). Only the braced form of BERTH_ variables is filled; everything else is copied as written.
 */
const PLACEHOLDER = /\$\{(BERTH_[A-Za-z0-9_]*)\}/g
const PORT_VARIABLE = /^BERTH_PORT_([1-9]\d{0,2})$/
const NAMED = new Set(['BERTH_ENV', 'BERTH_APP'])

export interface TemplateUse {
  /** The highest n of its ${BERTH_PORT_n}: how many ports a preview needs (0: none). */
  portCount: number
  /** BERTH_ variables berth does not fill (a typo, or BERTH_PORT_0), in the order they first appear. */
  unknown: string[]
}

/** What a template asks berth for. */
export function templateUse(text: string): TemplateUse {
  let portCount = 0
  const unknown: string[] = []
  for (const [, name] of text.matchAll(PLACEHOLDER)) {
    const port = PORT_VARIABLE.exec(name as string)
    if (port) portCount = Math.max(portCount, Number(port[1]))
    else if (!NAMED.has(name as string) && !unknown.includes(name as string)) unknown.push(name as string)
  }
  return { portCount, unknown }
}

export interface TemplateValues {
  app: string
  env: string
  /** The allocated ports: BERTH_PORT_1 is ports[0]. */
  ports: readonly number[]
}

/** The env file's text. Throws on a variable templateUse would have reported (load.ts refuses those first). */
export function fillTemplate(text: string, values: TemplateValues): string {
  return text.replace(PLACEHOLDER, (placeholder, name: string) => {
    if (name === 'BERTH_ENV') return values.env
    if (name === 'BERTH_APP') return values.app
    const port = PORT_VARIABLE.exec(name)
    const value = port ? values.ports[Number(port[1]) - 1] : undefined
    if (value === undefined) throw new Error(`${placeholder} has no value (${values.ports.length} ports allocated)`)
    return String(value)
  })
}
