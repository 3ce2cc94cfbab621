/**
 * `npm run bench`: runs the benchmark scenarios in bench/scenarios/ against a real S3 server, bucketjobs and its
 * peers on the same data in the same run, and prints (and writes to docs/benchmarks.md) a table of medians.
 * bench/README.md explains the figures; `npm run bench -- --help` lists the options.
 *
 * @module
 */

import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import { type FaultProxy, type FaultRule, rulesFromEnv, startFaultProxy } from '../test/support/fault-proxy.js';
import { GNU_TIME } from './support/processes.js';
import { type ContenderOutcome, section, table, writeSection } from './support/report.js';
import { figures, type RunFigures, runInChild } from './support/runner.js';
import { clearPrefix, MiB, s3Client } from './support/s3.js';
import { type LoadedScenario, loadScenarios, type SeedContext } from './support/scenario.js';
import { type BenchServer, describeMachine, ensureBenchTools, onPath, startServer } from './support/server.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const HELP = `Usage: npm run bench -- [options]

  --scenario NAME   run only this scenario (repeat, or comma-separate; default: all)
  --contender NAME  run only these contenders (repeat, or comma-separate)
  --runs N          measured runs per contender (default 5; 3 with --quick)
  --warmup N        unmeasured rounds first (default 0)
  --quick           smaller data (64 MiB), fewer runs
  --latency MS      first-byte latency on every request through the proxy: 30, or a range 20-100
  --direct          talk to the server directly, without the counting proxy (no bytes figures)
  --write           write the tables to docs/benchmarks.md (default, except with --quick or --contender)
  --no-write        only print
  --list            list the scenarios and contenders, and exit

Environment: S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY use that server instead of starting radosgw.
BJ_PROXY_RULES, BJ_PROXY_SEED, BJ_PROXY_LATENCY_MS inject faults (see test/support/fault-proxy.ts).`;

const DOCS = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));

const log = (line: string) => process.stderr.write(`${line}\n`);
const list = (values: readonly string[] | undefined) => (values ?? []).flatMap((v) => v.split(',')).filter(Boolean);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function describeRun(f: RunFigures): string {
  const bytes =
    f.sentBytes === undefined
      ? ''
      : `, ${(f.sentBytes / MiB).toFixed(1)}/${((f.receivedBytes ?? 0) / MiB).toFixed(1)} MiB sent/received in ${f.requests} requests`;
  return `${seconds(f.wallMs)} wall, ${seconds(f.cpuMs)} CPU, ${(f.peakRssKiB / 1024).toFixed(0)} MiB peak RSS${bytes}`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string', multiple: true },
      contender: { type: 'string', multiple: true },
      runs: { type: 'string' },
      warmup: { type: 'string' },
      quick: { type: 'boolean', default: false },
      latency: { type: 'string' },
      direct: { type: 'boolean', default: false },
      write: { type: 'boolean' },
      'no-write': { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const quick = values.quick ?? false;
  const runs = Number(values.runs ?? (quick ? 3 : 5));
  const warmup = Number(values.warmup ?? 0);
  if (!Number.isInteger(runs) || runs < 1) throw new TypeError('--runs must be a positive integer');
  if (!Number.isInteger(warmup) || warmup < 0) throw new TypeError('--warmup must be 0 or more');

  const all = await loadScenarios();
  if (values.list) {
    for (const { scenario } of all) {
      process.stdout.write(`${scenario.name}: ${scenario.description}\n`);
      for (const c of scenario.contenders)
        process.stdout.write(`  - ${c.name}${c.description ? `: ${c.description}` : ''}\n`);
    }
    return 0;
  }
  const wanted = list(values.scenario);
  const unknown = wanted.filter((n) => !all.some((s) => s.scenario.name === n));
  if (unknown.length > 0) {
    throw new TypeError(`unknown scenario ${unknown.join(', ')}; known: ${all.map((s) => s.scenario.name).join(', ')}`);
  }
  const chosen = wanted.length > 0 ? all.filter((s) => wanted.includes(s.scenario.name)) : all;
  const only = list(values.contender);
  const strangers = only.filter((n) => !chosen.some((s) => s.scenario.contenders.some((c) => c.name === n)));
  if (strangers.length > 0) throw new TypeError(`no contender named ${strangers.join(', ')}; see --list`);
  // A partial run (--quick, or only some contenders) would replace a full table with a partial one: print only.
  const write = values['no-write'] ? false : (values.write ?? (!quick && only.length === 0));

  const envProfile = rulesFromEnv(process.env);
  if (values.direct && (values.latency !== undefined || envProfile.rules.length > 0)) {
    throw new TypeError('--direct bypasses the proxy: it cannot be combined with --latency or BJ_PROXY_* rules');
  }

  // Command-line peers come from Debian; without root they are skipped, and the table says so.
  for (const line of ensureBenchTools(log)) log(`not installed: ${line}`);

  let server: BenchServer | undefined;
  let proxy: FaultProxy | undefined;
  const shutdown = async () => {
    await proxy?.close().catch(() => {});
    await server?.stop().catch(() => {});
  };
  const onSignal = () => {
    log('interrupted: stopping the server ...');
    void shutdown().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let failures = 0;
  try {
    server = await startServer(log);
    const direct = server.access;
    if (!values.direct) proxy = await startFaultProxy({ target: direct.endpoint, env: process.env });
    const viaProxy = proxy ? { ...direct, endpoint: proxy.endpoint } : direct;
    const machine = await describeMachine();
    const client = s3Client(direct);

    for (const loaded of chosen) {
      failures += await runScenario(loaded, {
        server,
        proxy,
        client,
        viaProxy,
        runs,
        warmup,
        quick,
        only,
        write,
        machine,
        latency: values.latency,
        envRules: envProfile.rules,
        argv: process.argv.slice(2),
      });
    }
  } finally {
    await shutdown();
  }
  return failures > 0 ? 1 : 0;
}

interface RunSettings {
  readonly server: BenchServer;
  readonly proxy: FaultProxy | undefined;
  readonly client: ReturnType<typeof s3Client>;
  readonly viaProxy: SeedContext['s3'];
  readonly runs: number;
  readonly warmup: number;
  readonly quick: boolean;
  readonly only: readonly string[];
  readonly write: boolean;
  readonly machine: string;
  /** `--latency`, which overrides a scenario's own. */
  readonly latency: string | undefined;
  /** Rules from BJ_PROXY_* variables (the proxy applies them itself). */
  readonly envRules: readonly FaultRule[];
  readonly argv: readonly string[];
}

/** Seeds, runs every contender `warmup + runs` times, verifies each output, reports. Returns the failed runs. */
async function runScenario({ file, scenario }: LoadedScenario, o: RunSettings): Promise<number> {
  const bucket = `bench-${scenario.name}-${Date.now().toString(36)}`.slice(0, 63);
  const seedCtx: SeedContext = {
    s3: o.server.access,
    bucket,
    quick: o.quick,
    client: (overrides) => s3Client(o.server.access, overrides),
  };
  // Fault profile of the proxy: --latency, else the scenario's own latency, plus anything in BJ_PROXY_* variables.
  const latency = o.latency ?? (o.proxy ? scenario.latency : undefined);
  let profile = o.proxy ? 'counts bytes, injects no faults' : 'none (--direct): the client talks to the server itself';
  let suffix = '';
  const rules: FaultRule[] = [];
  if (latency !== undefined) {
    rules.push(...rulesFromEnv({ BJ_PROXY_LATENCY_MS: latency }).rules);
    profile = `first-byte latency ${latency} ms on every request`;
    // A scenario's own latency is part of its identity; only an override names a section of its own.
    if (o.latency !== undefined && o.latency !== scenario.latency) suffix += `-latency-${latency}ms`;
  }
  if (o.proxy && scenario.bandwidthPerStream !== undefined) {
    rules.push({ bandwidthBytesPerSec: scenario.bandwidthPerStream });
    const cap = `each request's body capped at ${(scenario.bandwidthPerStream / MiB).toFixed(0)} MiB/s`;
    profile = rules.length > 1 ? `${profile}; ${cap}` : cap;
  }
  if (o.envRules.length > 0) {
    profile += `; BJ_PROXY_* rules ${JSON.stringify(o.envRules)}`;
    suffix += '-faults';
  }
  o.proxy?.setRules(rules);
  log(`\n== ${scenario.name}: ${scenario.description}`);
  const loadAtStart = loadavg()[0] ?? Number.NaN;
  await o.client.send(new CreateBucketCommand({ Bucket: bucket }));
  const t0 = performance.now();
  const params = await scenario.seed(seedCtx);
  log(`seeded ${(params.bytes / MiB).toFixed(0)} MiB in ${seconds(performance.now() - t0)}`);

  const outcomes = new Map<string, { runs: RunFigures[]; failures: string[]; skipped?: string }>();
  const active: string[] = [];
  for (const c of scenario.contenders) {
    if (o.only.length > 0 && !o.only.includes(c.name)) continue;
    const missing: string[] = [];
    for (const command of [...(c.requires ?? []), ...(c.requires?.length ? [GNU_TIME] : [])]) {
      if (!(await onPath(command))) missing.push(command);
    }
    const skipped = missing.length > 0 ? `${missing.join(', ')} not installed` : undefined;
    outcomes.set(c.name, { runs: [], failures: [], skipped });
    if (!skipped) active.push(c.name);
    else log(`skipping ${c.name}: ${skipped}`);
  }

  let failed = 0;
  try {
    for (let round = 0; round < o.warmup + o.runs; round++) {
      const measured = round >= o.warmup;
      const run = round - o.warmup;
      // Alternate the order: each round starts one contender later.
      const order = active.map((_, i) => active[(i + round) % active.length] as string);
      for (const name of order) {
        const outcome = outcomes.get(name);
        if (!outcome) continue;
        const prefix = `out/${name.replace(/[^a-zA-Z0-9._-]/g, '_')}/${round}/`;
        const output = { bucket, prefix, key: `${prefix}out` };
        const label = measured ? `run ${run + 1}/${o.runs}` : `warm-up ${round + 1}/${o.warmup}`;
        try {
          const result = await runInChild(
            { file, scenario: scenario.name, contender: name, s3: o.viaProxy, bucket, params, output, run: round },
            () => o.proxy?.resetStats(),
          );
          const f = figures(result, o.proxy?.stats());
          await scenario.verify({ ...seedCtx, params, output, contender: name });
          log(`${label} ${name}: ${describeRun(f)}`);
          if (measured) outcome.runs.push(f);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          log(`${label} ${name}: FAILED: ${message}`);
          if (measured) {
            outcome.failures.push(message);
            failed++;
          }
        } finally {
          await clearPrefix(o.client, bucket, prefix).catch(() => {});
          await o.server.collectGarbage();
        }
      }
    }
  } finally {
    await clearPrefix(o.client, bucket, '').catch(() => {});
    await o.client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
    await o.server.collectGarbage();
  }

  const report = {
    id: scenario.name + suffix,
    title: `${scenario.name}${suffix ? ` (${suffix.slice(1)})` : ''}`,
    description: scenario.description,
    bytes: params.bytes,
    runsPerContender: o.runs,
    machine: o.machine,
    load: [loadAtStart, loadavg()[0] ?? Number.NaN] as const,
    server: o.server.description,
    profile,
    command: ['npm run bench', ...(o.argv.length ? ['--', ...o.argv] : [])].join(' '),
    date: new Date().toISOString().slice(0, 10),
    outcomes: scenario.contenders
      .filter((c) => outcomes.has(c.name))
      .map((c): ContenderOutcome => ({ name: c.name, description: c.description, ...outcomes.get(c.name)! })),
  };
  process.stdout.write(
    `\n${scenario.name} (${(params.bytes / MiB).toFixed(0)} MiB, medians of ${o.runs} runs)\n\n${table(report)}\n`,
  );
  if (o.write) {
    await writeSection(DOCS, report.id, section(report));
    log(`wrote section "${report.id}" of docs/benchmarks.md`);
  }
  return failed;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // A wrong option is a TypeError: its message says what to do; anything else gets its stack.
    log(
      err instanceof TypeError
        ? `${err.message}\n(npm run bench -- --help)`
        : err instanceof Error
          ? (err.stack ?? err.message)
          : String(err),
    );
    process.exit(1);
  },
);
