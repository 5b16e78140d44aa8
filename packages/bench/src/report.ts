/** Benchmark output: one JSON object per group on stdout, a readable table on stderr. */
export interface BenchGroup {
  group: string;
  [key: string]: unknown;
}

export function report(group: BenchGroup, table: string[][]): void {
  process.stdout.write(JSON.stringify(group) + '\n');
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const lines = table.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
  process.stderr.write(`\n== ${group.group} ==\n${lines.join('\n')}\n`);
}
