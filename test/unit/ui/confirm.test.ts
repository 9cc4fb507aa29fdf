import { describe, expect, it } from 'vitest'
import { UsageError } from '../../../src/errors.js'
import { confirm } from '../../../src/ui/confirm.js'

describe('confirm', () => {
  it('answers yes without asking when --yes is given', async () => {
    await expect(confirm('Deploy to production?', { yes: true, isTTY: false })).resolves.toBe(true)
  })

  it('refuses without a terminal and without --yes', async () => {
    const refusal = confirm('Deploy to production?', { yes: false, isTTY: false })
    await expect(refusal).rejects.toBeInstanceOf(UsageError)
    await expect(refusal).rejects.toMatchObject({ code: 'CONFIRMATION_REQUIRED', exitCode: 2, message: expect.stringContaining('--yes') })
  })
})
