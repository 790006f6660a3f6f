import type { CommandCounts } from '../command-counter';

// The report `npm run bench` prints and writes: one row per hot path beside the slowest of its
// ceiling parts, then the database commands each path issues per request, by process.

export interface Measured {
  count: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** Non-2xx answers, errors, timeouts or webhooks that never arrived: such a figure is not fair. */
  failed: number;
  /** CPU time of the API process per request, in microseconds (HTTP paths only). */
  apiCpuMicros?: number;
}

export interface HotPath {
  name: string;
  concurrency: string;
  product: Measured;
  /** Each part the path cannot do without, measured alone; the slowest is the ceiling. */
  parts: Array<Measured & { name: string }>;
  /** Commands per request, by the process that issued them (API, worker, the bench's publisher). */
  commands: Record<'api' | 'worker' | 'publisher', CommandCounts>;
}

export interface Report {
  generated_at: string;
  machine: { cpus: number; node: string };
  settings: Record<string, number>;
  hot_paths: HotPath[];
}

export const ceilingOf = (path: HotPath) =>
  path.parts.reduce((slowest, part) => (part.perSecond < slowest.perSecond ? part : slowest));

const total = (counts: CommandCounts) => Object.values(counts).reduce((sum, n) => sum + n, 0);
const ms = (value: number) => (value < 10 ? value.toFixed(1) : value.toFixed(0));
const run = (m: Measured) =>
  `${m.perSecond.toFixed(0)}/s, p50 ${ms(m.p50)} ms, p99 ${ms(m.p99)} ms${m.failed ? ` (${m.failed} failed)` : ''}`;

export function formatReport(report: Report): string {
  const lines = [
    `# npm run bench, ${report.generated_at} (${report.machine.cpus} CPUs, Node ${report.machine.node})`,
    '',
    '| hot path | concurrency | product | ceiling (slowest part) | ceiling figures | throughput ratio | p50 ratio | DB commands/request |',
    '|---|---|---:|---|---:|---:|---:|---:|',
  ];
  for (const path of report.hot_paths) {
    const ceiling = ceilingOf(path);
    const commands = total(path.commands.api) + total(path.commands.worker) + total(path.commands.publisher);
    lines.push(
      `| ${path.name} | ${path.concurrency} | ${run(path.product)} | ${ceiling.name} | ${run(ceiling)} | ${(path.product.perSecond / ceiling.perSecond).toFixed(2)} | ${(path.product.p50 / ceiling.p50).toFixed(1)}× | ${commands.toFixed(2)} |`,
    );
  }
  const others = report.hot_paths.flatMap((path) =>
    path.parts
      .filter((part) => part !== ceilingOf(path))
      .map((part) => `- ${path.name}: ${part.name}, ${run(part)}`),
  );
  if (others.length > 0) lines.push('', 'Other parts measured (faster than the ceiling shown):', ...others);
  lines.push('', '## Database commands per request, by process', '');
  lines.push('| hot path | process | commands/request | by command and collection |', '|---|---|---:|---|');
  for (const path of report.hot_paths) {
    for (const [process, counts] of Object.entries(path.commands)) {
      if (total(counts) === 0) continue;
      const detail = Object.entries(counts)
        .sort((a, b) => b[1] - a[1])
        .map(([key, n]) => `${key} ${n < 0.01 ? '<0.01' : n.toFixed(2)}`)
        .join(', ');
      lines.push(`| ${path.name} | ${process} | ${total(counts).toFixed(2)} | ${detail} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}
