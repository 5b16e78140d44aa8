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

/** Runs `fn` repeatedly for at least `budgetMs`; returns the best seconds per run. */
export function bestOf(fn: () => void, budgetMs = 1500, minRuns = 3): number {
  let best = Infinity;
  const start = performance.now();
  for (let n = 0; n < minRuns || performance.now() - start < budgetMs; n++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}
