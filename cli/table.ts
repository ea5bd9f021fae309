// Plain-text tables for the terminal: columns padded to their widest cell, no colour, so the
// output reads the same in a pipe, a log and a test.
export function table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | undefined>>): string {
  const cells = [headers.map(String), ...rows.map((row) => headers.map((_, i) => clean(row[i])))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(cells[0]!), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

/** One line per cell: a newline or a control character from Stripe data must not break the table. */
function clean(value: string | number | undefined): string {
  // eslint-disable-next-line no-control-regex
  return value === undefined ? '' : String(value).replace(/[\u0000-\u001f\u007f]+/g, ' ');
}
