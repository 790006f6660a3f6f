// The table `npm run bench:http` prints: each hot path beside its ceiling, and the ratio between them.

export interface Run {
  perSecond: number;
  p50: number;
  p99: number;
  /** Non-2xx answers, errors and timeouts: a run with any is not a fair figure, and says so. */
  failed: number;
  /** CPU time of the API process per request, in microseconds. */
  cpuMicros: number;
}

export interface Row {
  path: string;
  ceilingName: string;
  connections: number;
  data: string;
  product: Run;
  ceiling: Run;
}

const figures = (run: Run) =>
  `${run.perSecond.toFixed(0)} req/s, p50 ${run.p50} ms, p99 ${run.p99} ms, API CPU ${run.cpuMicros.toFixed(0)} µs/req${run.failed ? `, ${run.failed} failed` : ''}`;

export function formatTable(rows: Row[]): string {
  const lines = [
    '| hot path | connections | data | product | ceiling | ratio |',
    '|---|---:|---|---:|---:|---:|',
  ];
  for (const row of rows) {
    const ratio = row.product.perSecond / row.ceiling.perSecond;
    lines.push(
      `| ${row.path} | ${row.connections} | ${row.data} | ${figures(row.product)} | ${row.ceilingName}: ${figures(row.ceiling)} | ${ratio.toFixed(2)} |`,
    );
  }
  // The same path at the two data sizes, as the issue's "no slower than 0.8x with 100k documents".
  const growth = ['', '| hot path | connections | product, grown / as set up |', '|---|---:|---:|'];
  const sizes = [...new Set(rows.map((row) => row.data))];
  if (sizes.length === 2) {
    for (const row of rows.filter((r) => r.data === sizes[0])) {
      const grown = rows.find(
        (r) => r.data === sizes[1] && r.path === row.path && r.connections === row.connections,
      );
      if (grown)
        growth.push(
          `| ${row.path} | ${row.connections} | ${(grown.product.perSecond / row.product.perSecond).toFixed(2)} |`,
        );
    }
  }
  return [...lines, ...growth].join('\n');
}
