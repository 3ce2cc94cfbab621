/**
 * What a benchmark scenario is, and how the harness finds them: every file in `bench/scenarios/` exports one or more
 * {@link defineScenario} results (default, named, or in an exported array). See bench/README.md for a walk-through.
 *
 * Life of a scenario in one `npm run bench`:
 * 1. `seed(ctx)` runs once, in the harness process, straight against the server (not through the proxy, not timed).
 *    It writes the data the contenders read and returns JSON-serialisable parameters, with `bytes`: how many bytes
 *    of payload one run moves (for CPU per MiB).
 * 2. Each run of each contender happens in a fresh child process: `prepare(ctx)` (not timed; load modules, build
 *    clients, warm a connection) returns the function the harness times. Requests made in `prepare` are not counted.
 * 3. `verify(ctx)` checks that run's output, in the harness process; a wrong output fails the benchmark.
 * 4. The harness deletes everything under `ctx.output.prefix`.
 *
 * @module
 */

import { readdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';

/** Where an S3 server is and how to sign for it. Always path-style, region `us-east-1`. */
export interface S3Access {
  /** `http://host:port`: the fault proxy for contenders, the server itself for seed and verify. */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
}

/** What `seed` returns: JSON, passed to every run. */
export interface ScenarioParams {
  /** Payload bytes one run moves (for "CPU ms per MiB"). */
  readonly bytes: number;
  readonly [name: string]: unknown;
}

/** Where one run writes. Everything under `prefix` is deleted after the run. */
export interface RunOutput {
  readonly bucket: string;
  readonly prefix: string;
  /** `${prefix}out`: for scenarios with one output object. */
  readonly key: string;
}

export interface SeedContext {
  /** The server itself. */
  readonly s3: S3Access;
  /** A bucket the harness created for this scenario. */
  readonly bucket: string;
  /** `--quick`: use smaller data. */
  readonly quick: boolean;
  /** An S3 client for `s3`, with the settings radosgw needs. */
  client(overrides?: Partial<S3ClientConfig>): S3Client;
}

export interface VerifyContext<P extends ScenarioParams = ScenarioParams> extends SeedContext {
  readonly params: P;
  readonly output: RunOutput;
  readonly contender: string;
}

/** One command run by a contender, as `/usr/bin/time -v` measured it. */
export interface ProcessFigures {
  readonly command: string;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly maxRssKiB: number;
  /**
   * Which `exec`/`pipeline` call of the run it came from: the stages of one call run at once (their peaks add up),
   * calls run one after another (the run's peak is the largest call's).
   */
  readonly call?: number | undefined;
  readonly exitCode: number;
}

export interface ExecOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
}

export interface RunContext<P extends ScenarioParams = ScenarioParams> {
  /** The fault proxy in front of the server: send every request here, so the bytes are counted. */
  readonly s3: S3Access;
  readonly bucket: string;
  readonly params: P;
  readonly output: RunOutput;
  /** 0-based run number. */
  readonly run: number;
  /** An S3 client for `s3`, with the settings radosgw needs. */
  client(overrides?: Partial<S3ClientConfig>): S3Client;
  /**
   * Runs a command under `/usr/bin/time -v`. When a contender runs commands, their CPU time and peak RSS are its
   * figures (not the harness's Node process that started them). Rejects on a non-zero exit, with the stderr tail.
   */
  exec(command: string, args: readonly string[], options?: ExecOptions): Promise<void>;
  /** Runs commands as a shell pipeline (stdout of each to stdin of the next), each under `/usr/bin/time -v`. */
  pipeline(stages: readonly (readonly [string, ...string[]])[], options?: ExecOptions): Promise<void>;
}

/** The function the harness times. */
export type Timed = () => Promise<void>;

export interface Contender<P extends ScenarioParams = ScenarioParams> {
  readonly name: string;
  /** One line for the table's notes: what it runs, with which settings. */
  readonly description?: string | undefined;
  /** Commands that must be on PATH; without them the contender is skipped, and the table says why. */
  readonly requires?: readonly string[] | undefined;
  /** Not timed: load modules, build clients, warm up. Returns the function to time. Give this or `run`. */
  readonly prepare?: ((ctx: RunContext<P>) => Promise<Timed>) | undefined;
  /** Timed as a whole, when there is nothing to prepare. */
  readonly run?: ((ctx: RunContext<P>) => Promise<void>) | undefined;
}

export interface Scenario<P extends ScenarioParams = ScenarioParams> {
  /** Short, kebab-case: `--scenario` takes it, and docs/benchmarks.md keys its section on it. */
  readonly name: string;
  /** A sentence for the report: what moves where. */
  readonly description: string;
  seed(ctx: SeedContext): Promise<P>;
  /** Throws when a run's output is wrong (size, checksum, content). */
  verify(ctx: VerifyContext<P>): Promise<void>;
  /**
   * First-byte latency the proxy adds to every request when the command line gives no `--latency`: `'20'` or a
   * range `'20-100'` (ms). For scenarios whose point is a real store's round trips (many small objects).
   */
  readonly latency?: string | undefined;
  /**
   * Cap on each request's body bytes per second through the proxy, as a real store caps one connection's stream
   * (S3 serves one GET at roughly 80–100 MB/s): for scenarios whose point is how many streams a client keeps busy.
   * `--direct` runs without it.
   */
  readonly bandwidthPerStream?: number | undefined;
  /** The first one named `bucketjobs` is the reference for the ratios (else the first one). */
  readonly contenders: readonly Contender<P>[];
}

/** A scenario, for `export default` from a file in `bench/scenarios/`. */
export function defineScenario<P extends ScenarioParams>(scenario: Scenario<P>): Scenario<P> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(scenario.name)) {
    throw new TypeError(`scenario name ${JSON.stringify(scenario.name)} must be kebab-case`);
  }
  const names = scenario.contenders.map((c) => c.name);
  if (new Set(names).size !== names.length) throw new TypeError(`scenario ${scenario.name}: duplicate contender names`);
  for (const c of scenario.contenders) {
    if (!c.prepare === !c.run) throw new TypeError(`contender ${c.name}: give exactly one of prepare and run`);
  }
  return scenario;
}

export const SCENARIO_DIR = fileURLToPath(new URL('../scenarios/', import.meta.url));

export interface LoadedScenario {
  readonly file: string;
  readonly scenario: Scenario;
}

/** Every scenario in `bench/scenarios/`, sorted by name. */
export async function loadScenarios(): Promise<LoadedScenario[]> {
  const files = (await readdir(SCENARIO_DIR)).filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts')).sort();
  const out: LoadedScenario[] = [];
  for (const f of files) out.push(...(await loadScenarioFile(`${SCENARIO_DIR}${f}`)));
  const names = out.map((s) => s.scenario.name);
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length > 0) throw new TypeError(`scenario names used twice: ${[...new Set(twice)].join(', ')}`);
  return out.sort((a, b) => a.scenario.name.localeCompare(b.scenario.name));
}

const isScenario = (v: unknown): v is Scenario =>
  typeof v === 'object' &&
  v !== null &&
  Array.isArray((v as Scenario).contenders) &&
  typeof (v as Scenario).name === 'string';

/**
 * The scenarios one file exports: the default export, every named export that is a scenario, and the members of an
 * exported array of scenarios (as `export const scenarios = [...]`), each once.
 */
export async function loadScenarioFile(file: string): Promise<LoadedScenario[]> {
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const found = new Set<Scenario>();
  for (const value of Object.values(mod)) {
    if (isScenario(value)) found.add(value);
    else if (Array.isArray(value)) for (const v of value) if (isScenario(v)) found.add(v);
  }
  if (found.size === 0)
    throw new TypeError(`${file} must export defineScenario({ ... }) (default, named or in an array)`);
  return [...found].map((scenario) => ({ file, scenario }));
}

/** The scenario named `name` in `file` (for a run's child process). */
export async function loadScenarioByName(file: string, name: string): Promise<Scenario> {
  const hit = (await loadScenarioFile(file)).find((s) => s.scenario.name === name);
  if (!hit) throw new TypeError(`no scenario ${name} in ${file}`);
  return hit.scenario;
}
