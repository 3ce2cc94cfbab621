/**
 * Turns the runs of one scenario into a Markdown table (medians, ratios to bucketjobs) and writes it into its
 * section of docs/benchmarks.md, between `<!-- bench:<id>:start -->` and `<!-- bench:<id>:end -->`. Everything
 * outside the markers is prose and is left alone; a section not there yet is appended.
 *
 * @module
 */

import { readFile, writeFile } from 'node:fs/promises';
import { median, type RunFigures } from './runner.js';
import { MiB } from './s3.js';

export interface ContenderOutcome {
  readonly name: string;
  readonly description?: string | undefined;
  readonly runs: readonly RunFigures[];
  /** Why some runs failed (wrong output, an error), one entry per failed run. */
  readonly failures: readonly string[];
  /** Why it did not run at all. */
  readonly skipped?: string | undefined;
}

export interface ScenarioReport {
  /** The section id: the scenario name, plus the fault profile when there is one. */
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly bytes: number;
  readonly runsPerContender: number;
  readonly machine: string;
  /** 1-minute load average at the start and at the end of the scenario: other work on the machine shows here. */
  readonly load: readonly [number, number];
  readonly server: string;
  readonly profile: string;
  readonly command: string;
  readonly date: string;
  readonly outcomes: readonly ContenderOutcome[];
}

const fmt = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '—');
const ratio = (n: number, ref: number | undefined) =>
  ref !== undefined && ref > 0 && Number.isFinite(n) ? `${(n / ref).toFixed(2)}×` : '—';

interface Medians {
  wallMs: number;
  wallMin: number;
  wallMax: number;
  cpuMs: number;
  peakRssKiB: number;
  peakRssMax: number;
  startRssKiB: number;
  sentBytes: number;
  receivedBytes: number;
  requests: number;
}

function medians(runs: readonly RunFigures[]): Medians | undefined {
  if (runs.length === 0) return undefined;
  const m = (pick: (r: RunFigures) => number | undefined) =>
    median(runs.map(pick).filter((v): v is number => v !== undefined));
  const walls = runs.map((r) => r.wallMs);
  return {
    wallMs: m((r) => r.wallMs),
    wallMin: Math.min(...walls),
    wallMax: Math.max(...walls),
    cpuMs: m((r) => r.cpuMs),
    peakRssKiB: m((r) => r.peakRssKiB),
    peakRssMax: Math.max(...runs.map((r) => r.peakRssKiB)),
    startRssKiB: m((r) => r.startRssKiB),
    sentBytes: m((r) => r.sentBytes),
    receivedBytes: m((r) => r.receivedBytes),
    requests: m((r) => r.requests),
  };
}

/** The Markdown table of a scenario's results. */
export function table(report: ScenarioReport): string {
  const mib = report.bytes / MiB;
  const ref = report.outcomes.find((o) => o.name === 'bucketjobs' && o.runs.length > 0) ?? report.outcomes[0];
  const r = ref ? medians(ref.runs) : undefined;
  const header = [
    'contender',
    'wall s, median (min–max)',
    '×',
    'client CPU s',
    'CPU ms/MiB',
    '×',
    'peak RSS MiB, median (max)',
    '×',
    'RSS before run MiB',
    'MiB sent / received',
    'requests',
  ];
  const rows: string[][] = [];
  for (const o of report.outcomes) {
    const m = medians(o.runs);
    if (!m) {
      const why = o.skipped ? `skipped: ${o.skipped}` : `failed: ${o.failures[0] ?? 'no run finished'}`;
      rows.push([o.name, why.split('\n')[0] ?? '', ...header.slice(2).map(() => '')]);
      continue;
    }
    const failed = o.failures.length > 0 ? ` (${o.failures.length} failed)` : '';
    rows.push([
      `${o.name}${failed}`,
      `${fmt(m.wallMs / 1000, 2)} (${fmt(m.wallMin / 1000, 2)}–${fmt(m.wallMax / 1000, 2)})`,
      ratio(m.wallMs, r?.wallMs),
      fmt(m.cpuMs / 1000, 2),
      fmt(m.cpuMs / mib, 2),
      ratio(m.cpuMs, r?.cpuMs),
      `${fmt(m.peakRssKiB / 1024, 0)} (${fmt(m.peakRssMax / 1024, 0)})`,
      ratio(m.peakRssKiB, r?.peakRssKiB),
      Number.isFinite(m.startRssKiB) ? fmt(m.startRssKiB / 1024, 0) : '— (CLI)',
      Number.isFinite(m.sentBytes) ? `${fmt(m.sentBytes / MiB, 1)} / ${fmt(m.receivedBytes / MiB, 1)}` : '— (direct)',
      fmt(m.requests, 0),
    ]);
  }
  return alignedTable(header, rows);
}

/** A Markdown table with padded columns, as the formatter (biome) writes them, so the docs stay lint-clean. */
function alignedTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [header, ...rows].map((row) => row.map((c) => c.replace(/\|/g, '\\|')));
  const len = (c: string) => [...c].length;
  const widths = header.map((_, i) => Math.max(3, ...cells.map((row) => len(row[i] ?? ''))));
  const line = (row: readonly string[]) =>
    `| ${widths.map((w, i) => (row[i] ?? '') + ' '.repeat(w - len(row[i] ?? ''))).join(' | ')} |`;
  const [head = [], ...body] = cells;
  return [line(head), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...body.map(line)].join('\n');
}

/** The whole generated section (between the markers). */
export function section(report: ScenarioReport): string {
  const notes = report.outcomes
    .filter((o) => o.description)
    .map((o) => `- **${o.name}**: ${o.description}`)
    .join('\n');
  const failures = report.outcomes.flatMap((o) => o.failures.map((f) => `- ${o.name}: ${f.split('\n')[0]}`)).join('\n');
  return [
    `### ${report.title}`,
    '',
    report.description,
    '',
    `- Payload: ${fmt(report.bytes / MiB, 0)} MiB per run; ${report.runsPerContender} run${report.runsPerContender === 1 ? '' : 's'} per contender, order rotated each run; medians.`,
    `- Proxy: ${report.profile}.`,
    `- Machine: ${report.machine}; load average ${report.load.map((l) => l.toFixed(1)).join(' → ')} during the run.`,
    `- Server: ${report.server}.`,
    `- Run: \`${report.command}\` on ${report.date}.`,
    '',
    table(report),
    '',
    notes,
    failures ? `\nFailed runs:\n\n${failures}` : '',
  ]
    .join('\n')
    .trimEnd();
}

const START = (id: string) => `<!-- bench:${id}:start -->`;
const END = (id: string) => `<!-- bench:${id}:end -->`;

/** Writes the section into the Markdown file, replacing the previous one. */
export async function writeSection(file: string, id: string, body: string): Promise<void> {
  const current = await readFile(file, 'utf8').catch(() => '# Benchmarks\n');
  const block = `${START(id)}\n${body}\n${END(id)}`;
  const start = current.indexOf(START(id));
  const end = current.indexOf(END(id));
  const next =
    start >= 0 && end > start
      ? current.slice(0, start) + block + current.slice(end + END(id).length)
      : `${current.trimEnd()}\n\n${block}\n`;
  await writeFile(file, next);
}
