// `npm run test:safety`: the Jepsen-style safety harness. Starts its own DynamoDB Local
// (persisting to a temporary folder, so it can be restarted mid-run), the local HTTP API in a
// process of its own, and for each scenario and seed a few client OS processes; injects the
// scenario's faults, checks the recorded history, prints a summary table and writes it as JSON
// under results/safety/. Exits non-zero on any violation, or if a negative control (fencing
// switched off; a semaphore's limit broken; a waiter slot never given back) is NOT caught.
//
// Options: --seeds N (seeds 1..N, default 2) | --seed S (one seed, repeatable)
//          --duration S (seconds of workload per run, default 6) | --scenario NAME (repeatable)
//          --lease-ms MS (default 1000, the least the API takes) | --recovery-bound-ms MS (default 1000)
//          --unfenced (run the chosen lock scenarios with fencing off: they must then fail)
//          --no-http (library clients only) | --no-control (skip the negative controls)
//          --keep-histories (keep every run's histories, not only failed ones)
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createDocumentClient, createLockTable } from '../lib/core/index.js';
import {
  createItemTable,
  type DynamoDbLocal,
  freePort,
  localDynamoClient,
  startDynamoDbLocal,
} from '../local/dynamodb-local.js';
import { type CheckName, type CheckReport, checkHistory, type Fault } from './checker.js';
import type { ClientConfig, FromClient, ToClient } from './client-config.js';
import { deleteFreeLockItem } from './delete-item.js';
import { readHistory } from './history.js';
import { between, seededRandom } from './random.js';
import { readRegister } from './register.js';
import { NEGATIVE_CONTROLS, SCENARIOS, type ClientSpec, type Scenario } from './scenarios.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const CLIENT_SCRIPT = here('./client.ts');
const SERVER_SCRIPT = here('./server-process.ts');
const LOCKS_TABLE = 'safety-locks';
const REGISTER_TABLE = 'safety-register';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Options {
  seeds: number[];
  durationMs: number;
  leaseMs: number;
  recoveryBoundMs: number;
  scenarios: Scenario[];
  unfenced: boolean;
  http: boolean;
  control: boolean;
  keepHistories: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      seeds: { type: 'string' },
      seed: { type: 'string', multiple: true },
      duration: { type: 'string' },
      scenario: { type: 'string', multiple: true },
      'lease-ms': { type: 'string' },
      'recovery-bound-ms': { type: 'string' },
      unfenced: { type: 'boolean' },
      'no-http': { type: 'boolean' },
      'no-control': { type: 'boolean' },
      'keep-histories': { type: 'boolean' },
    },
  });
  const positive = (name: string, raw: string | undefined, fallback: number) => {
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(value) || value <= 0)
      throw new Error(`--${name} must be a positive number`);
    return value;
  };
  const seeds =
    values.seed?.map((s) => positive('seed', s, 1)) ??
    [...Array(positive('seeds', values.seeds, 2)).keys()].map((i) => i + 1);
  const all = [...SCENARIOS, ...NEGATIVE_CONTROLS];
  const scenarios = values.scenario
    ? values.scenario.map((name) => {
        const found = all.find((s) => s.name === name);
        if (!found)
          throw new Error(`unknown scenario ${name}: one of ${all.map((s) => s.name).join(', ')}`);
        return found;
      })
    : SCENARIOS;
  // The lock API's shortest lease; the clients would refuse anything shorter.
  if (values['lease-ms'] !== undefined && Number(values['lease-ms']) < 1000) {
    throw new Error('--lease-ms must be at least 1000');
  }
  return {
    seeds,
    durationMs: positive('duration', values.duration, 6) * 1000,
    leaseMs: positive('lease-ms', values['lease-ms'], 1000),
    recoveryBoundMs: positive('recovery-bound-ms', values['recovery-bound-ms'], 1000),
    scenarios,
    unfenced: values.unfenced ?? false,
    http: !values['no-http'],
    control: !values['no-control'] && !values.scenario && !values.unfenced,
    keepHistories: values['keep-histories'] ?? false,
  };
}

/** DynamoDB Local on a fixed port and folder (so a restart keeps state and clients reconnect), and the HTTP API. */
class Infrastructure {
  private db!: DynamoDbLocal;
  private server?: ChildProcess;
  url?: string;
  // A RAM-backed folder where there is one: DynamoDB Local still persists across its restart,
  // without paying a disk sync per write.
  readonly dir = mkdtempSync(
    join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'fenced-lock-safety-'),
  );
  private readonly dbPath = join(this.dir, 'db');
  private port = 0;

  get endpoint() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(http: boolean) {
    mkdirSync(this.dbPath);
    this.port = await freePort();
    this.db = await startDynamoDbLocal({ port: this.port, dbPath: this.dbPath });
    const ddb = localDynamoClient(this.endpoint);
    await createLockTable(ddb, LOCKS_TABLE);
    await createItemTable(ddb, REGISTER_TABLE);
    ddb.destroy();
    if (http) await this.startServer();
  }

  private async startServer() {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', SERVER_SCRIPT, LOCKS_TABLE, this.endpoint],
      {
        env: {
          ...process.env,
          NODE_OPTIONS: '',
          POWERTOOLS_LOG_LEVEL: 'SILENT',
          POWERTOOLS_METRICS_DISABLED: 'true',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.server = child;
    let stderr = '';
    child.stderr!.on(
      'data',
      (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)),
    );
    this.url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split('\n')[0];
        if (out.includes('\n')) {
          child.stdout!.off('data', onData);
          child.stdout!.resume(); // keep draining anything it prints later
          try {
            resolve((JSON.parse(line) as { url: string }).url);
          } catch {
            reject(new Error(`the local server printed ${line}`));
          }
        }
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code) =>
        reject(new Error(`the local server exited (${code}): ${stderr}`)),
      );
    });
  }

  /** Stops DynamoDB Local, waits `downMs`, and starts it again on the same port and folder. */
  async restartDb(downMs: number): Promise<{ at: number; until: number }> {
    const at = Date.now();
    await this.db.stop();
    await sleep(downMs);
    this.db = await startDynamoDbLocal({ port: this.port, dbPath: this.dbPath });
    return { at, until: Date.now() };
  }

  async stop() {
    if (this.server && this.server.exitCode === null && this.server.signalCode === null) {
      this.server.kill('SIGTERM');
      const timer = setTimeout(() => this.server?.kill('SIGKILL'), 5_000);
      await once(this.server, 'exit');
      clearTimeout(timer);
    }
    await this.db?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Every client process alive, so an interrupted run can end them (even a stopped one). */
const running = new Set<Client>();

/** A running client process. */
class Client {
  readonly exited: Promise<void>;
  private stderr = '';

  constructor(
    readonly config: ClientConfig,
    readonly spec: ClientSpec,
    readonly child: ChildProcess,
  ) {
    child.stderr!.on(
      'data',
      (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-2000)),
    );
    running.add(this);
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        running.delete(this);
        resolve();
      }),
    );
  }

  get alive() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get crashed(): string | undefined {
    const code = this.child.exitCode;
    return code !== null && code !== 0
      ? `${this.config.name} exited ${code}: ${this.stderr.trim()}`
      : undefined;
  }

  send(message: ToClient) {
    if (this.alive) this.child.send(message);
  }

  /** The next message of `type`, or undefined after `timeoutMs`. */
  next<T extends FromClient['type']>(type: T, timeoutMs: number) {
    return new Promise<Extract<FromClient, { type: T }> | undefined>((resolve) => {
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      const onMessage = (message: FromClient) => {
        if (message.type === type) finish(message as Extract<FromClient, { type: T }>);
      };
      const onExit = () => finish(undefined);
      const finish = (value: Extract<FromClient, { type: T }> | undefined) => {
        clearTimeout(timer);
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
        resolve(value);
      };
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
    });
  }
}

/** The first of `pool` to send a message of `type`, or undefined if none does within `timeoutMs`. */
function firstMessage<T extends FromClient['type']>(pool: Client[], type: T, timeoutMs: number) {
  return new Promise<{ client: Client; message: Extract<FromClient, { type: T }> } | undefined>(
    (resolve) => {
      let pending = pool.length;
      if (pending === 0) resolve(undefined);
      for (const client of pool) {
        void client.next(type, timeoutMs).then((message) => {
          if (message) resolve({ client, message });
          else if (--pending === 0) resolve(undefined);
        });
      }
    },
  );
}

/** A stopped waiter's wait must run out during the stop: victims wait at most this long. */
const PAUSABLE_WAIT_MS = 1_500;
/** How long past its deadline a waiter stays stopped. */
const PAUSE_PAST_DEADLINE_MS = 700;

/** One row of the summary. */
interface RunResult {
  scenario: string;
  seed: number;
  unfenced: boolean;
  /** A negative control: it must be caught (by `mustCatch`, when named). */
  control?: { mustCatch?: CheckName };
  durationMs: number;
  report: CheckReport;
  /** Problems of the harness itself (a fault that was never injected, a client crash). */
  problems: string[];
  /** Where the histories were kept, when the run failed. */
  kept?: string;
}

const nameHash = (name: string) => [...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);

async function runScenario(
  scenario: Scenario,
  seed: number,
  infra: Infrastructure,
  options: Options,
) {
  // Only the lock workload has a register to leave unfenced.
  const unfenced =
    scenario.permits === undefined && (scenario.unfenced === true || options.unfenced);
  const runName = `${scenario.name}${unfenced && !scenario.unfenced ? '-unfenced' : ''}-s${seed}`;
  const dir = join(infra.dir, runName);
  mkdirSync(dir);
  const { leaseMs } = options;
  const faults: Fault[] = [];
  const problems: string[] = [];
  const clients: Client[] = [];
  const started = Date.now();

  const spawnClient = (name: string, spec: ClientSpec, stopAt: number) => {
    const transport = spec.transport === 'http' && infra.url ? 'http' : 'library';
    const waitMs = spec.waitMs ?? 3 * leaseMs;
    const config: ClientConfig = {
      name,
      seed: seed * 1000 + nameHash(name) + clients.length,
      endpoint: infra.endpoint,
      locksTable: LOCKS_TABLE,
      registerTable: REGISTER_TABLE,
      registerId: runName,
      lockId: runName,
      transport,
      ...(transport === 'http' ? { httpUrl: infra.url } : {}),
      leaseMs,
      waitMs: typeof waitMs === 'number' ? [waitMs, waitMs] : waitMs,
      clockOffsetMs:
        transport === 'library' ? Math.round((spec.clockOffsetLeases ?? 0) * leaseMs) : 0,
      lostResponseRate: scenario.lostResponseRate ?? 0,
      unfenced,
      ...(scenario.permits === undefined ? {} : { permits: scenario.permits }),
      ...(spec.overcommit && transport === 'library' ? { overcommit: true } : {}),
      ...(spec.squatAfterMs === undefined ? {} : { squatAfterMs: spec.squatAfterMs }),
      historyFile: join(dir, `${name}.jsonl`),
      stopAt,
      workMs: scenario.workMs ?? [5, 30],
      armedWorkMs: 400,
    };
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', CLIENT_SCRIPT, JSON.stringify(config)],
      {
        env: {
          ...process.env,
          NODE_OPTIONS: '',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      },
    );
    const client = new Client(config, spec, child);
    clients.push(client);
    if (config.clockOffsetMs !== 0)
      faults.push({ kind: 'clock-skew', process: name, offsetMs: config.clockOffsetMs });
    return client;
  };

  try {
    const first = scenario.clients.map((spec, i) => spawnClient(`c${i}`, spec, 0));
    const ready = await Promise.all(first.map((c) => c.next('ready', 60_000)));
    if (ready.some((r) => r === undefined))
      throw new Error(`clients did not start: ${first.map((c) => c.crashed).join(' ')}`);
    const stopAt = Date.now() + options.durationMs * (scenario.durationFactor ?? 1);
    for (const client of first) client.send({ type: 'start', stopAt });

    const pauseMs = leaseMs + 800;
    // Each fault must leave time for the lock to be granted again before the run ends.
    const recovery = leaseMs + options.recoveryBoundMs;
    const budget = {
      pause: 500 + Math.max(pauseMs, recovery),
      kill: 500 + recovery,
      'db-restart': 3_000 + recovery,
      'kill-waiter': 500 + recovery,
      'pause-waiter': 500 + PAUSABLE_WAIT_MS + PAUSE_PAST_DEADLINE_MS + recovery,
      'delete-item': 500 + recovery,
    };
    const fits = (kind: keyof typeof budget) => Date.now() + budget[kind] + 500 <= stopAt;

    /** Pauses or kills the first holder to enter its section after its claim. */
    const processFault = async (kind: 'pause' | 'kill') => {
      // Arm every candidate with a correct clock: the first to report its claim is the victim.
      const pool = clients.filter((c) => c.alive && c.config.clockOffsetMs === 0);
      for (const candidate of pool) candidate.send({ type: 'arm' });
      const first = await firstMessage(pool, 'claimed', 10_000);
      for (const candidate of pool) candidate.send({ type: 'disarm' });
      if (!first) {
        problems.push(`no holder entered its section within 10 s to ${kind}`);
        return;
      }
      const { client: victim, message: claimed } = first;
      const held = { process: victim.config.name, owner: claimed.owner, token: claimed.token };
      if (kind === 'pause') {
        const pid = victim.child.pid!;
        process.kill(pid, 'SIGSTOP');
        const at = Date.now();
        await sleep(pauseMs);
        process.kill(pid, 'SIGCONT');
        faults.push({ kind, ...held, at, until: Date.now() });
      } else {
        victim.child.kill('SIGKILL');
        faults.push({ kind, ...held, at: Date.now() });
        await victim.exited;
        const replaced = clients.filter((c) => c.config.name.startsWith(`${held.process}r`));
        spawnClient(`${held.process}r${replaced.length + 1}`, victim.spec, stopAt);
      }
    };

    /**
     * Kills or stops a library caller while its acquire waits: the first armed one to start an
     * acquire that may wait, once it has waited long enough to be refused and take its place
     * in line (or its ticket, on the old queue). A stopped one stays stopped past its deadline.
     */
    const waiterFault = async (kind: 'kill-waiter' | 'pause-waiter', own: () => number) => {
      const longest = kind === 'pause-waiter' ? PAUSABLE_WAIT_MS : Infinity;
      for (let attempt = 0; attempt < 10; attempt++) {
        const pool = clients.filter(
          (c) =>
            c.alive &&
            c.config.transport === 'library' &&
            c.config.clockOffsetMs === 0 &&
            c.config.squatAfterMs === undefined &&
            c.config.waitMs[1] > 0 &&
            c.config.waitMs[1] <= longest,
        );
        for (const candidate of pool) candidate.send({ type: 'arm-wait' });
        const first = await firstMessage(pool, 'waiting', 10_000);
        for (const candidate of pool) candidate.send({ type: 'disarm' });
        if (!first) break;
        const { client: victim, message } = first;
        // Granted (or refused) before it had waited: try again with the next one.
        if (await victim.next('waited', between(own, 40, 120))) continue;
        const struck = { process: victim.config.name, owner: message.owner };
        if (kind === 'pause-waiter') {
          const pid = victim.child.pid!;
          process.kill(pid, 'SIGSTOP');
          const at = Date.now();
          await sleep(message.waitMs + PAUSE_PAST_DEADLINE_MS);
          process.kill(pid, 'SIGCONT');
          faults.push({ kind, ...struck, at, until: Date.now() });
        } else {
          victim.child.kill('SIGKILL');
          faults.push({ kind, ...struck, at: Date.now() });
          await victim.exited;
          const replaced = clients.filter((c) => c.config.name.startsWith(`${struck.process}r`));
          spawnClient(`${struck.process}r${replaced.length + 1}`, victim.spec, stopAt);
        }
        return;
      }
      problems.push(`no caller was caught waiting for a ${kind}`);
    };

    // Three nemeses, each with its own random stream so they replay alike when they interleave:
    // one stops or kills holders or waiters (taking turns when several are on), one restarts
    // the database, one deletes the lock's item.
    const processNemesis = async () => {
      const own = seededRandom(seed * 31 + nameHash(scenario.name));
      const kinds = (
        [
          ['pause', 'pause'],
          ['kill', 'kill'],
          ['killWaiter', 'kill-waiter'],
          ['pauseWaiter', 'pause-waiter'],
        ] as const
      )
        .filter(([flag]) => scenario[flag])
        .map(([, kind]) => kind);
      if (own() < 0.5) kinds.reverse();
      await sleep(between(own, 300, 700));
      for (let i = 0; kinds.length > 0 && fits(kinds[i % kinds.length]); i++) {
        const kind = kinds[i % kinds.length];
        await (kind === 'pause' || kind === 'kill' ? processFault(kind) : waiterFault(kind, own));
        await sleep(between(own, 200, 600));
      }
    };
    const deleteNemesis = async () => {
      const own = seededRandom(seed * 41 + nameHash(scenario.name));
      if (!scenario.deleteItem) return;
      const ddb = localDynamoClient(infra.endpoint);
      const doc = createDocumentClient(ddb);
      try {
        await sleep(between(own, 300, 700));
        while (fits('delete-item')) {
          const at = Date.now();
          // The lock is free only between a release and the next grant: try often.
          if (await deleteFreeLockItem(doc, LOCKS_TABLE, runName, at)) {
            faults.push({ kind: 'delete-item', at, until: Date.now() });
            await sleep(between(own, 400, 900));
          } else await sleep(between(own, 10, 60));
        }
      } finally {
        ddb.destroy();
      }
    };
    const dbNemesis = async () => {
      const own = seededRandom(seed * 37 + nameHash(scenario.name));
      if (!scenario.dbRestart) return;
      for (let first = true; ; first = false) {
        const room = stopAt - Date.now() - budget['db-restart'] - 500;
        if (room < 0) break;
        await sleep(between(own, Math.min(300, room), Math.min(first ? room : 3_000, room)));
        if (!fits('db-restart')) break;
        faults.push({ kind: 'db-restart', ...(await infra.restartDb(between(own, 300, 800))) });
      }
    };
    await Promise.all([processNemesis(), dbNemesis(), deleteNemesis()]);

    const deadline = sleep(Math.max(0, stopAt - Date.now()) + 20_000).then(() => 'timeout');
    if ((await Promise.race([Promise.all(clients.map((c) => c.exited)), deadline])) === 'timeout') {
      problems.push(
        `clients still running 20 s after the end: ${clients.filter((c) => c.alive).map((c) => c.config.name)}`,
      );
    }
  } finally {
    for (const client of clients) if (client.alive) client.child.kill('SIGKILL');
    await Promise.all(clients.map((c) => c.exited));
  }
  for (const client of clients) if (client.crashed) problems.push(client.crashed);

  const ddb = localDynamoClient(infra.endpoint);
  const register = await readRegister(createDocumentClient(ddb), {
    tableName: REGISTER_TABLE,
    id: runName,
  });
  ddb.destroy();
  const report = checkHistory({
    ops: readHistory(clients.map((c) => c.config.historyFile)),
    register,
    faults,
    leaseMs,
    recoveryBoundMs: options.recoveryBoundMs,
    ...(scenario.permits === undefined ? {} : { permits: scenario.permits }),
  });

  // A fault the scenario names that never happened would make a clean result meaningless.
  const injected = report.figures.faults;
  if (scenario.pause && !injected.pause) problems.push('no pause was injected');
  if (scenario.kill && !injected.kill) problems.push('no kill was injected');
  if (scenario.dbRestart && !injected['db-restart'])
    problems.push('DynamoDB Local was not restarted');
  if (scenario.lostResponseRate && !injected['lost-response'])
    problems.push('no response was lost');
  if (scenario.killWaiter && report.figures.waitersKilled === 0)
    problems.push('no caller was killed while its acquire waited');
  if (scenario.pauseWaiter && report.figures.waitersPausedPastDeadline === 0)
    problems.push('no waiting caller was stopped past its deadline');
  if (scenario.deleteItem && !injected['delete-item'])
    problems.push("the lock's item was never deleted");
  // (With restarts, a late write may instead meet DynamoDB down: not every run can show this.
  // A semaphore's holders write nothing: its pause shows in the permits the checker counts.)
  if (
    scenario.pause &&
    scenario.permits === undefined &&
    !scenario.dbRestart &&
    !unfenced &&
    report.figures.lateWritesRefused === 0
  ) {
    problems.push('no paused holder wrote late after a takeover: the pause proved nothing');
  }
  if (report.figures.grants === 0) problems.push('no lock was granted');

  const result: RunResult = {
    scenario: scenario.name,
    seed,
    unfenced,
    ...(scenario.control ? { control: scenario.control } : {}),
    durationMs: Date.now() - started,
    report,
    problems,
  };
  const failed = report.violations.length > 0 || problems.length > 0;
  if (failed || options.keepHistories) {
    result.kept = join('results', 'safety', 'histories', runName);
    cpSync(dir, result.kept, { recursive: true });
    writeFileSync(join(result.kept, 'faults.json'), JSON.stringify({ faults, register }, null, 2));
  }
  return result;
}

function faultText(faults: CheckReport['figures']['faults']) {
  const parts = Object.entries(faults).map(([kind, n]) => `${kind} ${n}`);
  return parts.length > 0 ? parts.join(', ') : '-';
}

function table(results: RunResult[]) {
  const header = [
    'scenario',
    'seed',
    'clients',
    'ops',
    'grants',
    'acquires refused',
    'permits held (max/N)',
    'writes ok',
    'refused',
    'late refused',
    'indeterminate (applied)',
    'register',
    'skewed takeovers',
    'faults',
    'max recovery ms',
    'progress worst gap / bound ms',
    'violations',
  ];
  const rows = results.map((r) => {
    const f = r.report.figures;
    return [
      r.scenario + (r.unfenced && !r.control ? ' (unfenced)' : ''),
      String(r.seed),
      String(f.processes),
      String(f.ops),
      String(f.grants),
      String(f.acquiresRefused),
      f.permits === null ? '-' : `${f.maxPermitsHeld}/${f.permits}`,
      String(f.writesAccepted),
      String(f.writesRefused),
      String(f.lateWritesRefused),
      `${f.writesIndeterminate} (${f.indeterminateApplied})`,
      String(f.registerValue),
      String(f.skewedTakeovers),
      faultText(f.faults),
      f.maxRecoveryMs === null ? '-' : String(f.maxRecoveryMs),
      f.progressBoundMs === null ? '-' : `${f.progressWorstGapMs ?? '-'} / ${f.progressBoundMs}`,
      String(f.violations),
    ];
  });
  return [header, header.map(() => '---'), ...rows]
    .map((cells) => `| ${cells.join(' | ')} |`)
    .join('\n');
}

/** The figures of one run on one line: the lock workload's writes, or the semaphore's permits. */
function runLine(r: RunResult) {
  const f = r.report.figures;
  const work =
    f.permits === null
      ? `${f.writesAccepted} writes, ${f.writesRefused} refused`
      : `${f.acquiresRefused} refused, at most ${f.maxPermitsHeld} of ${f.permits} permits held` +
        (f.faults.pause
          ? `, ${f.pausedGrantsTakenOver} of ${f.faults.pause} paused taken over`
          : '');
  return (
    `${r.scenario} seed ${r.seed}: ${f.ops} ops, ${f.grants} grants, ${work}, ` +
    `faults ${faultText(f.faults)}, ` +
    (f.progressBoundMs === null
      ? ''
      : `progress worst gap ${f.progressWorstGapMs ?? '-'} ms (bound ${f.progressBoundMs}), `) +
    `${f.violations} violations` +
    `${r.problems.length ? `, PROBLEMS: ${r.problems.join('; ')}` : ''} (${r.durationMs} ms)\n`
  );
}

const checksCaught = (r: RunResult) => [...new Set(r.report.violations.map((v) => v.check))];

/** What a run got wrong: violations in a clean run, or a control (or unfenced run) not caught. */
function failuresOf(r: RunResult): string[] {
  const name = `${r.scenario} seed ${r.seed}`;
  const problems = r.problems.map((p) => `${name}: ${p}`);
  const caught = checksCaught(r);
  if (r.control) {
    const wanted = r.control.mustCatch;
    const missed = wanted ? !caught.includes(wanted) : caught.length === 0;
    return missed
      ? [`${name}: negative control not caught${wanted ? ` (no ${wanted})` : ''}`, ...problems]
      : problems;
  }
  if (r.unfenced) {
    return caught.length > 0
      ? problems
      : [`${name}: unfenced writes but the checker found no violation`, ...problems];
  }
  return r.report.violations.length > 0
    ? [`${name}: ${r.report.violations.length} violations`, ...problems]
    : problems;
}

async function main() {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const options = parseOptions(process.argv.slice(2));
  const infra = new Infrastructure();
  const results: RunResult[] = [];
  const controls: RunResult[] = [];
  const startedAt = new Date();
  const stopOnSignal = () => {
    for (const client of running) client.child.kill('SIGKILL');
    void infra.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    const booting = Date.now();
    await infra.start(options.http);
    process.stdout.write(
      `DynamoDB Local${infra.url ? ` and the HTTP API (${infra.url})` : ''} up in ${Date.now() - booting} ms\n`,
    );
    if (options.http && !infra.url) throw new Error('the HTTP server did not start');
    for (const seed of options.seeds) {
      for (const scenario of options.scenarios) {
        const result = await runScenario(scenario, seed, infra, options);
        results.push(result);
        process.stdout.write(runLine(result));
      }
    }
    for (const scenario of options.control ? NEGATIVE_CONTROLS : []) {
      const control = await runScenario(scenario, options.seeds[0], infra, options);
      controls.push(control);
      process.stdout.write(
        `${scenario.name} (negative control) seed ${control.seed}: ` +
          `${control.report.violations.length} violations found ` +
          `(${checksCaught(control).join(', ') || 'none'})\n`,
      );
    }
  } finally {
    await infra.stop();
  }

  // Expected outcome: zero violations in a clean run; violations in a control (the checker works).
  const all = [...results, ...controls];
  const failures = all.flatMap(failuresOf);

  const summary = table(all);
  process.stdout.write(`\n${summary}\n\n`);
  for (const r of all) {
    for (const v of r.report.violations.slice(0, 5)) {
      process.stdout.write(`  ${r.scenario} seed ${r.seed} [${v.check}] ${v.message}\n`);
    }
    if (r.kept) process.stdout.write(`  histories kept in ${r.kept}\n`);
  }
  mkdirSync(join('results', 'safety'), { recursive: true });
  const file = join(
    'results',
    'safety',
    `safety-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`,
  );
  const json = JSON.stringify(
    {
      command: `npm run test:safety -- ${process.argv.slice(2).join(' ')}`.trim(),
      startedAt: startedAt.toISOString(),
      wallMs: Date.now() - startedAt.getTime(),
      options: { ...options, scenarios: options.scenarios.map((s) => s.name) },
      passed: failures.length === 0,
      failures,
      runs: results.map(serialize),
      negativeControls: controls.map(serialize),
    },
    null,
    2,
  );
  writeFileSync(file, json);
  writeFileSync(join('results', 'safety', 'latest.json'), json);
  process.stdout.write(`results written to ${file}\n`);
  if (failures.length > 0) {
    process.stdout.write(`\nFAILED:\n${failures.map((f) => `  ${f}`).join('\n')}\n`);
    process.exit(1);
  }
  const clean = results.filter((r) => !r.unfenced && !r.control).length;
  const expectedCaught = all.length - clean;
  process.stdout.write(
    `\nPASSED: ${clean} runs with zero violations` +
      (expectedCaught > 0
        ? `; ${expectedCaught} negative controls and unfenced runs caught by the checker\n`
        : '\n'),
  );
}

function serialize(r: RunResult) {
  return {
    scenario: r.scenario,
    seed: r.seed,
    unfenced: r.unfenced,
    ...(r.control ? { control: r.control } : {}),
    durationMs: r.durationMs,
    figures: r.report.figures,
    violations: r.report.violations.slice(0, 50),
    problems: r.problems,
    ...(r.kept ? { histories: r.kept } : {}),
  };
}

await main();
