/** Build step (`npm run build`, after tsc): publishes the JSON Schema of deploy.yml for editors (SPEC §2). */
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as z from 'zod'
import { deployFileSchema } from './schema.js'

// Beside dist/, so the path is the same in the repository and in the published package.
const target = fileURLToPath(new URL('../../schema/deploy.schema.json', import.meta.url))

// The input side is what people write: durations as "90s", defaults optional. draft-07 is what editors support best.
const schema = z.toJSONSchema(deployFileSchema, { io: 'input', target: 'draft-07' })

await mkdir(dirname(target), { recursive: true })
await writeFile(target, `${JSON.stringify(schema, null, 2)}\n`)
