import type { CostLine, PriceTable } from './cost-model.js';
import {
  BILLED_MEMORY_MB,
  LAMBDA_PATH_LABELS,
  LAMBDA_PATHS,
  type LambdaPath,
  type LambdaPathResult,
} from './lambda-paths.js';
import type { BundleWeight, Variant } from './lambda-weight.js';
import { SYSTEM_KEYS, SYSTEM_LABELS, type SystemKey } from './lock-systems.js';
import type { ProcessContentionResult } from './contention.js';
import type { ContendedResult, CostResult, CycleResult, TakeoverResult } from './scenarios.js';

type PerSystem<T> = Partial<Record<SystemKey, T>>;

/** The uncontended scenarios at one added round-trip time. */
export interface UncontendedRun {
  /** The round trip the proxy added to every DynamoDB request (`--rtt-ms`). */
  rttMs: number;
  single: PerSystem<CycleResult>;
  reacquire: PerSystem<CycleResult>;
  concurrent: PerSystem<CycleResult>;
}

/** The RTT at which the issue's uncontended targets are set: a DynamoDB round trip in AWS. */
const TARGET_RTT_MS = 4;

/** Everything one run measured; written as JSON and rendered as the table and chart. */
export interface BenchResults {
  meta: {
    startedAt: string;
    totalSeconds: number;
    command: string;
    node: string;
    cpus: { count: number; model: string };
    /** 1-minute load average of the machine (other work on it skews every figure). */
    loadAverage: { start: number; end: number };
    dynamodbLocal: string;
    options: Record<string, unknown>;
    peerSettings: string;
  };
  /** Why a system has no figures, where it has none. */
  unavailable: PerSystem<string>;
  /** One run of the uncontended scenarios per `--rtt-ms` value, in that order. */
  uncontended: UncontendedRun[];
  /** Workers in one process on one lock (they share the process's in-process wake). */
  contended: PerSystem<ContendedResult>;
  /** The same workers, each in its own process with its own client, as Lambdas are. */
  contendedProcesses: PerSystem<ProcessContentionResult>;
  /** The mixed workload (try-locks and bounded waits) across processes. */
  mixed: PerSystem<ProcessContentionResult>;
  takeover: PerSystem<TakeoverResult>;
  /** Takeover with the peers at their default settings (no trustLocalTime). */
  takeoverPeerDefaults: PerSystem<TakeoverResult>;
  cost: { newLock: PerSystem<CostResult>; reacquire: PerSystem<CostResult> };
  /** Handler time and requests of each Lambda path (direct invoke, REST API, HTTP API). */
  lambdaPaths: Partial<Record<LambdaPath, LambdaPathResult>>;
  /** The cost of a million acquire + release cycles per path, from `cost`, `lambdaPaths`, `prices`. */
  costPerMillion: CostLine[];
  /** The price table the cost lines were computed with (bench/prices.json). */
  prices?: PriceTable;
  lambda: BundleWeight[];
  targets: TargetCheck[];
}

/** One target of the issue, checked against this run. */
export interface TargetCheck {
  target: string;
  measured: string;
  /** null when the figure could not be measured. */
  met: boolean | null;
}

interface Row {
  label: string;
  get: (key: SystemKey) => number | undefined;
  digits: number;
}

/** The peers, in table order. */
export const PEERS = ['dynamodb-lock-client', 'deliveryhero'] as const;

/**
 * Reads a results file written before runs had RTTs (one uncontended set, no Lambda paths).
 *
 * @example const results = upgradeResults(JSON.parse(text));
 */
export function upgradeResults(r: BenchResults): BenchResults {
  const uncontended = r.uncontended as unknown;
  return {
    ...r,
    uncontended: Array.isArray(uncontended)
      ? (uncontended as UncontendedRun[])
      : [{ rttMs: 0, ...(uncontended as Omit<UncontendedRun, 'rttMs'>) }],
    lambdaPaths: r.lambdaPaths ?? {},
    contendedProcesses: r.contendedProcesses ?? {},
    mixed: r.mixed ?? {},
    costPerMillion: r.costPerMillion ?? [],
  };
}

/** The run at the first RTT (0 ms by default), which the other sections share. */
const baseRun = (r: BenchResults): UncontendedRun | undefined => r.uncontended[0];
const runAt = (r: BenchResults, rttMs: number) => r.uncontended.find((u) => u.rttMs === rttMs);
const SHORT: Record<SystemKey, string> = {
  library: 'ours: library',
  http: 'ours: HTTP',
  'dynamodb-lock-client': 'dynamodb-lock-client',
  deliveryhero: '@deliveryhero',
};

function rows(r: BenchResults): Row[] {
  const cycleRows = (name: string, pick: (k: SystemKey) => CycleResult | undefined): Row[] => [
    { label: `${name}: cycles/s`, get: (k) => pick(k)?.cyclesPerSec, digits: 0 },
    { label: `${name}: acquire p50 ms`, get: (k) => pick(k)?.acquire.p50, digits: 2 },
    { label: `${name}: acquire p99 ms`, get: (k) => pick(k)?.acquire.p99, digits: 2 },
    { label: `${name}: release p50 ms`, get: (k) => pick(k)?.release.p50, digits: 2 },
    { label: `${name}: release p99 ms`, get: (k) => pick(k)?.release.p99, digits: 2 },
  ];
  const workers = r.meta.options.workers;
  const contendedWorkers = r.meta.options.contendedWorkers;
  return [
    ...r.uncontended.flatMap((run) => {
      const at = `, ${run.rttMs} ms RTT`;
      return [
        ...cycleRows(`1 worker, new lock${at}`, (k) => run.single[k]),
        ...cycleRows(`1 worker, same lock re-acquired${at}`, (k) => run.reacquire[k]),
        ...cycleRows(`${workers} workers, new locks${at}`, (k) => run.concurrent[k]),
      ];
    }),
    ...contentionRows(
      `${contendedWorkers} worker processes on 1 lock${rttOf(r.contendedProcesses)}`,
      (k) => r.contendedProcesses[k],
    ),
    ...contentionRows(`mixed: ${mixedLabel(r)}${rttOf(r.mixed)}`, (k) => r.mixed[k]),
    {
      label: `${contendedWorkers} workers in 1 process on 1 lock (in-process): grants/s`,
      get: (k) => r.contended[k]?.grantsPerSec,
      digits: 1,
    },
    { label: '  wait for a grant p50 ms', get: (k) => r.contended[k]?.wait.p50, digits: 0 },
    { label: '  wait for a grant p99 ms', get: (k) => r.contended[k]?.wait.p99, digits: 0 },
    { label: '  grants per worker CV', get: (k) => r.contended[k]?.fairness.cv, digits: 2 },
    {
      label: '  DynamoDB requests per grant',
      get: (k) => r.contended[k]?.requestsPerGrant?.total,
      digits: 1,
    },
    {
      label: '  of which reads',
      get: (k) => r.contended[k]?.requestsPerGrant?.reads,
      digits: 1,
    },
    {
      label: 'dead holder: kill -> new holder ms',
      get: (k) => r.takeover[k]?.fromKillMs,
      digits: 0,
    },
    {
      label: '  new holder after lease end ms',
      get: (k) => r.takeover[k]?.afterLeaseEndMs,
      digits: 0,
    },
    {
      label: '  same, peers at default settings',
      get: (k) => (r.takeoverPeerDefaults[k] ?? r.takeover[k])?.afterLeaseEndMs,
      digits: 0,
    },
    {
      label: 'requests/cycle, new lock (R+W)',
      get: (k) => r.cost.newLock[k]?.perCycle.total,
      digits: 2,
    },
    { label: '  reads', get: (k) => r.cost.newLock[k]?.perCycle.reads, digits: 2 },
    { label: '  writes', get: (k) => r.cost.newLock[k]?.perCycle.writes, digits: 2 },
    { label: '  read request units', get: (k) => r.cost.newLock[k]?.perCycle.readUnits, digits: 2 },
    { label: '  per acquire', get: (k) => sum(r.cost.newLock[k]?.acquire), digits: 2 },
    { label: '  per release', get: (k) => sum(r.cost.newLock[k]?.release), digits: 2 },
    {
      label: 'requests/cycle, same lock (R+W)',
      get: (k) => r.cost.reacquire[k]?.perCycle.total,
      digits: 2,
    },
    { label: '  reads', get: (k) => r.cost.reacquire[k]?.perCycle.reads, digits: 2 },
    { label: '  writes', get: (k) => r.cost.reacquire[k]?.perCycle.writes, digits: 2 },
  ];
}

/** The rows of one cross-process contention scenario. */
function contentionRows(
  name: string,
  pick: (k: SystemKey) => ProcessContentionResult | undefined,
): Row[] {
  return [
    { label: `${name}: grants/s`, get: (k) => pick(k)?.grantsPerSec, digits: 1 },
    { label: '  wait for a grant p50 ms', get: (k) => pick(k)?.wait.p50, digits: 0 },
    { label: '  wait for a grant p99 ms', get: (k) => pick(k)?.wait.p99, digits: 0 },
    { label: '  grants per caller CV', get: (k) => pick(k)?.fairness.cv, digits: 2 },
    {
      label: '  DynamoDB requests per grant',
      get: (k) => pick(k)?.requestsPerGrant.total,
      digits: 1,
    },
    { label: '  of which reads', get: (k) => pick(k)?.requestsPerGrant.reads, digits: 1 },
    { label: '  longest time without a grant ms', get: (k) => pick(k)?.longestGapMs, digits: 0 },
  ];
}

/** ", N ms RTT" of a contention section, from whichever system ran it. */
const rttOf = (section: PerSystem<ProcessContentionResult>): string => {
  const rtt = Object.values(section)[0]?.rttMs;
  return rtt === undefined ? '' : `, ${rtt} ms RTT`;
};

/** The mixed workload in a few words, from its recorded options. */
function mixedLabel(r: BenchResults): string {
  const m = Object.values(r.mixed)[0];
  if (m?.workload.kind !== 'mixed') return 'try-locks and bounded waits across processes';
  const w = m.workload;
  return (
    `${m.callers} callers in ${m.processes} processes, ${Math.round(w.tryShare * 100)}% ` +
    `try-lock, others wait 1-${w.maxWaitMs} ms, hold ${w.holdMs} ms`
  );
}

const sum = (x: { reads: number; writes: number } | undefined) =>
  x === undefined ? undefined : x.reads + x.writes;

const fmt = (value: number | undefined, digits: number): string =>
  value === undefined || Number.isNaN(value)
    ? 'n/a'
    : value.toLocaleString('en-US', {
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
      });

const ratio = (ours: number | undefined, peer: number | undefined): string =>
  ours === undefined ||
  peer === undefined ||
  !Number.isFinite(ours) ||
  !Number.isFinite(peer) ||
  peer === 0
    ? 'n/a'
    : `${(ours / peer).toFixed(2)}x`;

/**
 * The side-by-side table: each peer column followed by ours (library) ÷ that peer.
 *
 * @example console.log(renderTable(results, 'text'));
 */
export function renderTable(r: BenchResults, style: 'text' | 'markdown'): string {
  const header = [
    'metric',
    SHORT.library,
    SHORT.http,
    ...PEERS.flatMap((p) => [SHORT[p], `lib ÷ ${p === 'deliveryhero' ? 'deliveryhero' : 'dlc'}`]),
  ];
  // Sections this run skipped (--skip, --only) leave rows with no figure at all: left out.
  const measured = rows(r).filter((row) =>
    SYSTEM_KEYS.some((k) => {
      const value = row.get(k);
      return value !== undefined && !Number.isNaN(value);
    }),
  );
  const body = measured.map((row) => {
    const lib = row.get('library');
    return [
      row.label,
      fmt(lib, row.digits),
      fmt(row.get('http'), row.digits),
      ...PEERS.flatMap((p) => [fmt(row.get(p), row.digits), ratio(lib, row.get(p))]),
    ];
  });
  return grid([header, ...body], style);
}

/** A cost in the price table's currency, to the cent below a dollar. */
const money = (value: number | undefined): string =>
  value === undefined || !Number.isFinite(value) ? 'n/a' : `$${value.toFixed(value < 10 ? 3 : 2)}`;

/**
 * The time each Lambda path's handler took per invocation, and what it sent to DynamoDB.
 *
 * @example console.log(renderLambdaPathsTable(results, 'text'));
 */
export function renderLambdaPathsTable(r: BenchResults, style: 'text' | 'markdown'): string {
  const header = [
    'Lambda path (in-process handler)',
    'acquire p50 ms',
    'release p50 ms',
    'acquire p99 ms',
    'billed ms/cycle',
    'DynamoDB W+R/cycle',
    'errors',
  ];
  const body = LAMBDA_PATHS.flatMap((path) => {
    const p = r.lambdaPaths[path];
    if (!p) return [];
    return [
      [
        LAMBDA_PATH_LABELS[path],
        fmt(p.acquire.p50, 2),
        fmt(p.release.p50, 2),
        fmt(p.acquire.p99, 2),
        fmt(Math.ceil(p.acquire.p50) + Math.ceil(p.release.p50), 0),
        `${fmt(p.perCycle.writes, 2)}+${fmt(p.perCycle.reads, 2)}`,
        String(p.errors),
      ],
    ];
  });
  return body.length === 0 ? '' : grid([header, ...body], style);
}

/**
 * The cost of one million acquire + release cycles per path, cheapest first.
 *
 * @example console.log(renderCostTable(results, 'markdown'));
 */
export function renderCostTable(r: BenchResults, style: 'text' | 'markdown'): string {
  if (r.costPerMillion.length === 0) return '';
  const header = [
    'path: 1M acquire+release cycles',
    'DynamoDB WRU+RRU/cycle',
    'API req/cycle',
    'Lambda ms/cycle',
    'DynamoDB',
    'API Gateway',
    'Lambda',
    'total',
  ];
  const body = [...r.costPerMillion]
    .sort((a, b) => a.total - b.total)
    .map((l) => [
      l.label,
      `${fmt(l.basis.writeUnits, 2)}+${fmt(l.basis.readUnits, 2)}`,
      fmt(l.basis.apiRequests, 0),
      l.basis.invocations > 0 ? fmt(l.basis.billedMs, 0) : '-',
      money(l.dynamodb),
      l.apiGateway > 0 ? money(l.apiGateway) : '-',
      l.basis.invocations > 0 ? money(l.lambdaRequests + l.lambdaDuration) : '-',
      money(l.total),
    ]);
  return grid([header, ...body], style);
}

/** Where the prices come from and what the Lambda lines assume. */
function costNote(r: BenchResults): string {
  const p = r.prices;
  if (!p) return '';
  const rtt = Object.values(r.lambdaPaths)[0]?.rttMs;
  return (
    `Prices: ${p.currency} on-demand list prices for ${p.region}, read on ${p.readOn} ` +
    `(bench/prices.json, with sources). Lambda: two invocations per cycle, each billed at the ` +
    `p50 in-process handler time of this run rounded up to 1 ms, at ${BILLED_MEMORY_MB} MB ` +
    `arm64${rtt === undefined ? '' : `, with ${rtt} ms added to each DynamoDB round trip`}; ` +
    `this machine's CPU is faster than a ${BILLED_MEMORY_MB} MB function's share, so the CPU ` +
    `part is a lower bound. Not included: logs, traces, data transfer, free tiers.`
  );
}

const VARIANT_LABELS: Record<Variant, string> = {
  'all-bundled': 'SDK bundled (as deployed)',
  'sdk-external': "SDK external (runtime's)",
};

/** @example console.log(renderLambdaTable(results.lambda, 'text')); */
export function renderLambdaTable(weights: BundleWeight[], style: 'text' | 'markdown'): string {
  const header = ['handler', 'bundle', 'size KB', 'module load ms (median)', 'note'];
  const body = weights.map((w) => [
    w.entry,
    VARIANT_LABELS[w.variant],
    w.bytes === undefined ? 'n/a' : (w.bytes / 1024).toFixed(1),
    w.loadMs === undefined ? 'n/a' : w.loadMs.toFixed(1),
    w.error ?? '',
  ]);
  return grid([header, ...body], style);
}

function grid(cells: string[][], style: 'text' | 'markdown'): string {
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join(style === 'markdown' ? ' | ' : '  ');
  const rule =
    style === 'markdown'
      ? widths.map((w, c) => (c === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')
      : widths.map((w) => '-'.repeat(w)).join('  ');
  const wrap = (text: string) => (style === 'markdown' ? `| ${text} |` : text);
  return [wrap(line(cells[0]!)), wrap(rule), ...cells.slice(1).map((row) => wrap(line(row)))].join(
    '\n',
  );
}

/**
 * Checks the issue's targets against this run's figures (verifying, never assuming).
 *
 * @example const targets = checkTargets(results);
 */
export function checkTargets(r: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const check = (target: string, measured: string, met: boolean | null) =>
    checks.push({ target, measured, met });
  const known = (...values: (number | undefined)[]) =>
    values.every((v) => v !== undefined && Number.isFinite(v));

  for (const [name, cost] of [
    ['new lock', r.cost.newLock.library],
    ['same lock', r.cost.reacquire.library],
  ] as const) {
    const a = sum(cost?.acquire);
    const rel = sum(cost?.release);
    check(
      `ours: 1 DynamoDB request per acquire and per release, no reads (${name})`,
      cost
        ? `acquire ${fmt(a, 2)} (reads ${fmt(cost.acquire.reads, 2)}), release ${fmt(rel, 2)} (reads ${fmt(cost.release.reads, 2)})`
        : 'not measured',
      cost ? a === 1 && rel === 1 && cost.perCycle.reads === 0 : null,
    );
  }
  {
    const perCycle = (k: SystemKey) => r.cost.newLock[k]?.perCycle;
    const want = { library: [2, 0], 'dynamodb-lock-client': [3, 1], deliveryhero: [3, 1] } as const;
    const keys = Object.keys(want) as (keyof typeof want)[];
    check(
      'requests and reads per cycle: ours 2 and 0, dynamodb-lock-client and @deliveryhero 3 and 1',
      keys
        .map((k) => `${SHORT[k]} ${fmt(perCycle(k)?.total, 2)} and ${fmt(perCycle(k)?.reads, 2)}`)
        .join(', '),
      keys.every((k) => perCycle(k))
        ? keys.every((k) => perCycle(k)!.total === want[k][0] && perCycle(k)!.reads === want[k][1])
        : null,
    );
  }
  const base = baseRun(r);
  const baseAt = base ? `, ${base.rttMs} ms RTT` : '';
  for (const [name, pick, want] of [
    ['new lock', base?.single, 1.3],
    ['same lock re-acquired', base?.reacquire, 1.5],
  ] as const) {
    const lib = pick?.library?.cyclesPerSec;
    const peer = pick?.['dynamodb-lock-client']?.cyclesPerSec;
    check(
      `1 worker, ${name}${baseAt}: cycles/s >= ${want}x dynamodb-lock-client`,
      `${fmt(lib, 0)} vs ${fmt(peer, 0)} = ${ratio(lib, peer)}`,
      known(lib, peer) ? lib! / peer! >= want : null,
    );
  }
  {
    const lib = base?.concurrent.library?.cyclesPerSec;
    const peer = base?.concurrent['dynamodb-lock-client']?.cyclesPerSec;
    check(
      `${String(r.meta.options.workers)} workers${baseAt}: ratio to dynamodb-lock-client (reported, no target)`,
      `${fmt(lib, 0)} vs ${fmt(peer, 0)} = ${ratio(lib, peer)}`,
      null,
    );
  }
  // Issue 13: with a network round trip per request, as AWS users see it.
  const target = runAt(r, TARGET_RTT_MS);
  for (const [name, pick] of [
    ['new lock', target?.single],
    ['same lock re-acquired', target?.reacquire],
  ] as const) {
    for (const peer of PEERS) {
      const lib = pick?.library?.cyclesPerSec;
      const other = pick?.[peer]?.cyclesPerSec;
      check(
        `1 worker, ${name}, ${TARGET_RTT_MS} ms RTT: cycles/s >= 1.3x ${SHORT[peer]}`,
        target
          ? `${fmt(lib, 0)} vs ${fmt(other, 0)} = ${ratio(lib, other)}`
          : `not measured: no ${TARGET_RTT_MS} ms run in --rtt-ms`,
        known(lib, other) ? lib! / other! >= 1.3 : null,
      );
    }
  }
  {
    const line = (key: string) => r.costPerMillion.find((l) => l.key === key);
    const [rest, http] = [line('rest'), line('http')];
    const paths = [r.lambdaPaths.rest, r.lambdaPaths.http];
    const measured = rest && http && paths.every((p) => p && p.errors === 0);
    check(
      'HTTP API (v2 events): every cycle answered as on the REST API, cost per million printed next to it',
      measured
        ? `REST API ${money(rest.total)}, HTTP API ${money(http.total)} per million cycles; ` +
            `DynamoDB writes/reads per cycle ${fmt(rest.basis.writeUnits, 2)}/${fmt(rest.basis.readUnits, 2)} vs ${fmt(http.basis.writeUnits, 2)}/${fmt(http.basis.readUnits, 2)}`
        : `not measured${paths.find((p) => p?.firstError)?.firstError ? `: ${paths.find((p) => p?.firstError)!.firstError}` : ''}`,
      measured
        ? rest.basis.writeUnits === http.basis.writeUnits &&
            rest.basis.readUnits === http.basis.readUnits
        : null,
    );
  }
  for (const key of ['library', 'http'] as const) {
    const t = r.takeover[key];
    check(
      `${SHORT[key]}: dead holder taken over within lease + 100 ms`,
      t && !t.error
        ? `${fmt(t.afterLeaseEndMs, 0)} ms after lease end (${fmt(t.fromKillMs, 0)} ms after the kill, lease ${t.leaseMs} ms)`
        : `not measured${t?.error ? `: ${t.error}` : ''}`,
      t && !t.error ? t.afterLeaseEndMs <= 100 : null,
    );
  }
  for (const op of ['acquire', 'release'] as const) {
    const lib = base?.single.library?.[op].p50;
    const http = base?.single.http?.[op].p50;
    check(
      `HTTP API ${op} p50 within 2 ms of the library${baseAt}`,
      known(lib, http)
        ? `${fmt(http, 2)} vs ${fmt(lib, 2)} ms (+${fmt(http! - lib!, 2)})`
        : 'not measured',
      known(lib, http) ? http! - lib! <= 2 : null,
    );
  }
  checks.push(...contentionTargets(r));
  // Issue 13: fair handoff with the workers in one process, against the better peer.
  {
    const lib = r.contended.library;
    const peers = (['dynamodb-lock-client', 'deliveryhero'] as const)
      .map((k) => r.contended[k])
      .filter((c): c is NonNullable<typeof c> => c !== undefined);
    const workers = r.meta.options.contendedWorkers;
    const bestRate = Math.max(...peers.map((p) => p.grantsPerSec));
    const bestP99 = Math.min(...peers.map((p) => p.wait.p99));
    const measured = lib && peers.length > 0;
    check(
      `in-process, ${workers} workers on 1 lock: grants/s >= the best peer's`,
      measured ? `${fmt(lib.grantsPerSec, 1)} vs ${fmt(bestRate, 1)}` : 'not measured',
      measured ? lib.grantsPerSec >= bestRate : null,
    );
    check(
      `in-process, ${workers} workers on 1 lock: wait p99 <= half the best peer's`,
      measured ? `${fmt(lib.wait.p99, 0)} vs ${fmt(bestP99, 0)} ms` : 'not measured',
      measured ? lib.wait.p99 <= bestP99 / 2 : null,
    );
    check(
      `in-process, ${workers} workers on 1 lock: grants-per-worker CV <= 0.2`,
      lib ? fmt(lib.fairness.cv, 2) : 'not measured',
      lib ? lib.fairness.cv <= 0.2 : null,
    );
    check(
      `in-process, ${workers} workers on 1 lock: DynamoDB requests per grant (reported next to the peers')`,
      (['library', 'dynamodb-lock-client', 'deliveryhero'] as const)
        .map((k) => `${SHORT[k]} ${fmt(r.contended[k]?.requestsPerGrant?.total, 1)}`)
        .join(', '),
      null,
    );
  }
  for (const w of r.lambda) {
    check(
      `${w.entry} (${VARIANT_LABELS[w.variant]}): bundle < 1 MB and module load < 150 ms`,
      w.error
        ? `not measured: ${w.error}`
        : `${fmt(w.bytes! / 1024, 1)} KB, ${fmt(w.loadMs, 1)} ms`,
      w.error ? null : w.bytes! < 1024 * 1024 && w.loadMs! < 150,
    );
  }
  return checks;
}

/**
 * How a figure stands against its bound: "met (x to spare)" or "missed by x (y%)".
 *
 * @example against(31.3, 43.9, 'atLeast', 1) // 'missed by 12.6 (29%)'
 */
export function against(
  value: number,
  bound: number,
  direction: 'atLeast' | 'atMost',
  digits: number,
): string {
  const short = direction === 'atLeast' ? bound - value : value - bound;
  if (short <= 0) return `met, ${fmt(-short, digits)} to spare`;
  const share = bound === 0 ? '' : ` (${Math.round((short / Math.abs(bound)) * 100)}%)`;
  return `missed by ${fmt(short, digits)}${share}`;
}

/** Issue 19's targets: callers in separate processes at a network round trip, against @deliveryhero. */
function contentionTargets(r: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const peer = 'deliveryhero' as const;
  const versusPeer = (
    section: PerSystem<ProcessContentionResult>,
    target: string,
    pick: (c: ProcessContentionResult) => number,
    bound: (peerValue: number) => number,
    direction: 'atLeast' | 'atMost',
    unit: string,
    digits: number,
  ) => {
    const [ours, theirs] = [section.library, section[peer]];
    if (!ours || !theirs) return checks.push({ target, measured: 'not measured', met: null });
    const [value, limit] = [pick(ours), bound(pick(theirs))];
    const known = Number.isFinite(value) && Number.isFinite(limit);
    checks.push({
      target,
      measured:
        `ours ${fmt(value, digits)} vs ${SHORT[peer]} ${fmt(pick(theirs), digits)}${unit}` +
        (known ? `; bound ${fmt(limit, digits)}: ${against(value, limit, direction, digits)}` : ''),
      met: known ? (direction === 'atLeast' ? value >= limit : value <= limit) : null,
    });
  };
  const own = (
    section: PerSystem<ProcessContentionResult>,
    target: string,
    value: number | undefined,
    limit: number,
    unit: string,
    digits: number,
  ) => {
    const known = value !== undefined && Number.isFinite(value);
    checks.push({
      target,
      measured: known
        ? `${fmt(value, digits)}${unit}: ${against(value, limit, 'atMost', digits)}`
        : section.library
          ? 'not measured: no grants'
          : 'not measured',
      met: known ? value <= limit : null,
    });
  };
  const procs = r.contendedProcesses;
  const n = Object.values(procs)[0]?.processes ?? r.meta.options.contendedWorkers;
  const at = `${n} worker processes on 1 lock${rttOf(procs)}`;
  versusPeer(
    procs,
    `${at}: grants/s >= 1.2x ${SHORT[peer]}'s`,
    (c) => c.grantsPerSec,
    (p) => 1.2 * p,
    'atLeast',
    ' grants/s',
    1,
  );
  versusPeer(
    procs,
    `${at}: wait p99 <= half ${SHORT[peer]}'s`,
    (c) => c.wait.p99,
    (p) => p / 2,
    'atMost',
    ' ms',
    0,
  );
  own(procs, `${at}: grants-per-worker CV <= 0.2`, procs.library?.fairness.cv, 0.2, '', 3);
  versusPeer(
    procs,
    `${at}: DynamoDB requests per grant <= ${SHORT[peer]}'s`,
    (c) => c.requestsPerGrant.total,
    (p) => p,
    'atMost',
    '',
    1,
  );
  const mixed = r.mixed;
  const mixedAt = `mixed workload (${mixedLabel(r)}${rttOf(mixed)})`;
  versusPeer(
    mixed,
    `${mixedAt}: grants/s >= 0.8x ${SHORT[peer]}'s`,
    (c) => c.grantsPerSec,
    (p) => 0.8 * p,
    'atLeast',
    ' grants/s',
    1,
  );
  own(
    mixed,
    `${mixedAt}: no gap between grants over 1 s (ours)`,
    mixed.library?.longestGapMs,
    1000,
    ' ms',
    0,
  );
  return checks;
}

/** @example console.log(renderTargets(results.targets)); */
export function renderTargets(checks: TargetCheck[], style: 'text' | 'markdown'): string {
  const mark = (met: boolean | null) =>
    met === null
      ? style === 'markdown'
        ? '–'
        : '  -  '
      : met
        ? style === 'markdown'
          ? 'met'
          : ' met '
        : 'MISSED';
  // A target of a skipped section has no figure (only "n/a" or "not measured"): left out.
  return checks
    .filter((c) => c.met !== null || /\d/.test(c.measured.replace(/n\/a/g, '')))
    .map((c) =>
      style === 'markdown'
        ? `- **${mark(c.met)}** ${c.target}: ${c.measured}`
        : `${mark(c.met).padEnd(6)} ${c.target}: ${c.measured}`,
    )
    .join('\n');
}

const COLORS: Record<SystemKey, string> = {
  library: '#1f77b4',
  http: '#6baed6',
  'dynamodb-lock-client': '#ff7f0e',
  deliveryhero: '#2ca02c',
};

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A hand-written SVG: throughput and p99 latency per system, one panel per measure, grouped by
 * scenario, each bar labelled with its value.
 *
 * @example writeFileSync('chart.svg', renderChart(results));
 */
export function renderChart(r: BenchResults): string {
  const base = baseRun(r);
  const slowest = r.uncontended.length > 1 ? r.uncontended[r.uncontended.length - 1] : undefined;
  const panels: {
    title: string;
    groups: { name: string; value: (k: SystemKey) => number | undefined }[];
  }[] = [
    {
      title: 'Throughput: acquire+release cycles per second (higher is better)',
      groups: [
        { name: '1 worker, new lock', value: (k) => base?.single[k]?.cyclesPerSec },
        { name: '1 worker, same lock', value: (k) => base?.reacquire[k]?.cyclesPerSec },
        {
          name: `${String(r.meta.options.workers)} workers`,
          value: (k) => base?.concurrent[k]?.cyclesPerSec,
        },
        ...(slowest
          ? [
              {
                name: `1 worker, new lock, ${slowest.rttMs} ms RTT`,
                value: (k: SystemKey) => slowest.single[k]?.cyclesPerSec,
              },
            ]
          : []),
        {
          name: `${String(r.meta.options.contendedWorkers)} processes, 1 lock: grants/s`,
          value: (k) => r.contendedProcesses[k]?.grantsPerSec,
        },
        { name: 'mixed workload: grants/s', value: (k) => r.mixed[k]?.grantsPerSec },
      ],
    },
    {
      title: 'p99 latency, ms (lower is better)',
      groups: [
        { name: 'acquire, 1 worker', value: (k) => base?.single[k]?.acquire.p99 },
        { name: 'release, 1 worker', value: (k) => base?.single[k]?.release.p99 },
        {
          name: `acquire, ${String(r.meta.options.workers)} workers`,
          value: (k) => base?.concurrent[k]?.acquire.p99,
        },
      ],
    },
    {
      title: 'Contended wait p99 and dead-holder takeover, ms (lower is better)',
      groups: [
        {
          name: 'processes: wait for a grant p99',
          value: (k) => r.contendedProcesses[k]?.wait.p99,
        },
        { name: 'mixed: longest time without a grant', value: (k) => r.mixed[k]?.longestGapMs },
        { name: 'dead holder: kill -> new holder', value: (k) => r.takeover[k]?.fromKillMs },
        {
          name: 'new holder after lease end',
          value: (k) => r.takeover[k]?.afterLeaseEndMs,
        },
        {
          name: 'same, peers at their defaults',
          value: (k) => (r.takeoverPeerDefaults[k] ?? r.takeover[k])?.afterLeaseEndMs,
        },
      ],
    },
  ];

  const width = 960;
  const panelHeight = 260;
  const legendHeight = 40;
  const height = legendHeight + panels.length * panelHeight + 20;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  );
  SYSTEM_KEYS.forEach((k, i) => {
    const x = 20 + i * 235;
    out.push(
      `<rect x="${x}" y="14" width="12" height="12" fill="${COLORS[k]}"/>`,
      `<text x="${x + 16}" y="24">${escapeXml(SYSTEM_LABELS[k])}${r.unavailable[k] ? ' (n/a)' : ''}</text>`,
    );
  });
  panels.forEach((panel, p) => {
    const top = legendHeight + p * panelHeight;
    const plotTop = top + 30;
    const plotHeight = panelHeight - 80;
    const left = 50;
    const plotWidth = width - left - 20;
    const values = panel.groups.flatMap((g) => SYSTEM_KEYS.map((k) => g.value(k) ?? 0));
    const max = Math.max(1, ...values.filter(Number.isFinite)) * 1.15;
    out.push(
      `<text x="${left}" y="${top + 18}" font-size="13" font-weight="bold">${escapeXml(panel.title)}</text>`,
    );
    out.push(
      `<line x1="${left}" y1="${plotTop + plotHeight}" x2="${left + plotWidth}" y2="${plotTop + plotHeight}" stroke="#333"/>`,
    );
    for (let t = 0; t <= 4; t++) {
      const y = plotTop + plotHeight - (plotHeight * t) / 4;
      out.push(
        `<line x1="${left}" y1="${y}" x2="${left + plotWidth}" y2="${y}" stroke="#eee"/>`,
        `<text x="${left - 4}" y="${y + 4}" text-anchor="end" fill="#666">${compact((max * t) / 4)}</text>`,
      );
    }
    const groupWidth = plotWidth / panel.groups.length;
    const barWidth = Math.min(40, (groupWidth - 30) / SYSTEM_KEYS.length);
    panel.groups.forEach((group, g) => {
      const groupLeft = left + g * groupWidth + (groupWidth - barWidth * SYSTEM_KEYS.length) / 2;
      SYSTEM_KEYS.forEach((k, i) => {
        const value = group.value(k);
        const x = groupLeft + i * barWidth;
        if (value === undefined || !Number.isFinite(value)) {
          out.push(
            `<text x="${x + barWidth / 2}" y="${plotTop + plotHeight - 4}" text-anchor="middle" fill="#999">n/a</text>`,
          );
          return;
        }
        const h = (plotHeight * value) / max;
        const y = plotTop + plotHeight - h;
        out.push(
          `<rect x="${x + 2}" y="${y}" width="${barWidth - 4}" height="${h}" fill="${COLORS[k]}"><title>${escapeXml(`${SYSTEM_LABELS[k]}, ${group.name}: ${value.toFixed(2)}`)}</title></rect>`,
          `<text x="${x + barWidth / 2}" y="${y - 3}" text-anchor="middle" font-size="9">${compact(value)}</text>`,
        );
      });
      out.push(
        `<text x="${left + g * groupWidth + groupWidth / 2}" y="${plotTop + plotHeight + 16}" text-anchor="middle">${escapeXml(group.name)}</text>`,
      );
    });
  });
  out.push(
    `<text x="${width - 10}" y="${height - 6}" text-anchor="end" fill="#666" font-size="9">${escapeXml(`npm run bench · ${r.meta.startedAt} · Node ${r.meta.node} · ${r.meta.cpus.count} CPUs · DynamoDB Local ${r.meta.dynamodbLocal}`)}</text>`,
    '</svg>',
  );
  return `${out.join('\n')}\n`;
}

const compact = (v: number): string =>
  v === 0
    ? '0'
    : v >= 10_000
      ? `${(v / 1000).toFixed(0)}k`
      : v >= 100
        ? v.toFixed(0)
        : v >= 10
          ? v.toFixed(1)
          : v.toFixed(2);

/**
 * The whole report: machine, peer settings, the side-by-side table, the Lambda table, targets.
 *
 * @example process.stdout.write(renderReport(results, 'text'));
 */
export function renderReport(r: BenchResults, style: 'text' | 'markdown'): string {
  const machine =
    `${r.meta.cpus.count} CPUs (${r.meta.cpus.model}), Node ${r.meta.node}, ` +
    `DynamoDB Local ${r.meta.dynamodbLocal}, 1-min load average ` +
    `${r.meta.loadAverage.start.toFixed(1)} at start and ${r.meta.loadAverage.end.toFixed(1)} at end`;
  const unavailable = Object.entries(r.unavailable).map(
    ([k, why]) => `${SYSTEM_LABELS[k as SystemKey]}: not measured: ${why}`,
  );
  const ratioNote =
    'Ratios are ours (library) ÷ peer: above 1 means ours is higher, which is better for ' +
    'throughput and worse for latency, waits and requests. Every system reaches DynamoDB ' +
    'Local through the counting proxy; "N ms RTT" rows add N ms to each DynamoDB request ' +
    '(half each way), standing in for the network; the takeover and request-count sections ' +
    `run at ${r.uncontended[0]?.rttMs ?? 0} ms.`;
  const contentionNote =
    'Contention rows: "worker processes" runs each worker in its own Node process and "mixed" ' +
    'deals its callers to a few processes (one client per process, as separate Lambdas have), ' +
    'requests counted at the proxy ' +
    'across all of them; "in-process" runs all workers in one process (sharing its client). ' +
    'The HTTP API is not in the process rows (the local server is one process, whose callers ' +
    'would share its in-process wake). dynamodb-lock-client is not in the mixed workload: it ' +
    'has no time-bounded wait (it counts retries, each waiting out the lease it finds). ' +
    `${SHORT.deliveryhero} waits \`waitMs\` as maxRetryCount = ceil(waitMs / its poll interval).`;
  const paths = renderLambdaPathsTable(r, style);
  const cost = renderCostTable(r, style);
  return [
    style === 'markdown'
      ? `Measured with \`${r.meta.command}\` on ${machine}; ${r.meta.startedAt}, ${r.meta.totalSeconds} s.`
      : `\nLock benchmark: ${machine}, ${r.meta.totalSeconds} s`,
    `Peers: ${r.meta.peerSettings}.`,
    ...unavailable,
    '',
    renderTable(r, style),
    '',
    ratioNote,
    '',
    contentionNote,
    '',
    ...(paths ? [paths, ''] : []),
    ...(cost ? [cost, '', costNote(r), ''] : []),
    ...(r.lambda.length > 0 ? [renderLambdaTable(r.lambda, style), ''] : []),
    style === 'markdown' ? 'Targets:\n' : 'Targets:',
    renderTargets(r.targets, style),
    '',
  ].join('\n');
}
