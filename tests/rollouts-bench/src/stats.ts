/** Latency statistics of one series of measurements, in milliseconds. */
export interface LatencySummary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * The p-th percentile (0 < p <= 100) by the nearest-rank method: a value that
 * was actually measured, never an interpolation between two.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) {
    throw new Error(
      'percentile of no measurements: the benchmark measured nothing',
    );
  }
  if (!(p > 0 && p <= 100)) {
    throw new Error(`percentile must be in (0, 100], got ${p}`);
  }
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[rank - 1];
}

export function summarize(values: readonly number[]): LatencySummary {
  const invalid = values.find(v => !Number.isFinite(v) || v < 0);
  if (invalid !== undefined) {
    throw new Error(`a latency of ${invalid} ms is not a measurement`);
  }
  return {
    n: values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: Math.max(...values),
    mean: values.reduce((a, b) => a + b, 0) / values.length,
  };
}

/** candidate / baseline, printed with two decimals; "n/a" when the baseline is 0. */
export function ratio(candidate: number, baseline: number): string {
  if (baseline === 0) return 'n/a';
  return (candidate / baseline).toFixed(2);
}

/** A Markdown table; numbers get at most one decimal. */
export function markdownTable(
  header: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string | number>>,
): string {
  const cell = (v: string | number) =>
    typeof v === 'number' ? String(Math.round(v * 10) / 10) : v;
  const lines = [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map(r => {
      if (r.length !== header.length) {
        throw new Error(
          `table row has ${r.length} cells, the header ${header.length}`,
        );
      }
      return `| ${r.map(cell).join(' | ')} |`;
    }),
  ];
  return lines.join('\n');
}
