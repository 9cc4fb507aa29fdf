/**
 * Aligns columns with two spaces, for status and releases output. No box characters or colours, so the
 * text reads the same in a terminal, a log and a pipe into grep/awk.
 */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)))
  // trimEnd: padding the last (or an empty trailing) cell would leave lines ending in spaces.
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n')
}
