// The scenarios of the harness: one per fault, a mixed one, a semaphore under the faults, the
// waiting scenarios (callers with different waits, dying, stopped or left without their item),
// and the negative controls.
import type { CheckName } from './checker.js';

/** One client process of a scenario. */
export interface ClientSpec {
  transport: 'library' | 'http';
  /** Offset of the client's clock, as a multiple of the lease (library clients only). @default 0 */
  clockOffsetLeases?: number;
  /** Test-only: writes its permits past the semaphore's limit (library clients only). */
  overcommit?: boolean;
  /**
   * How long each acquire may wait, in ms: a fixed time (0: a try-lock) or a range drawn from
   * per acquire. @default three leases
   */
  waitMs?: number | [number, number];
  /**
   * Test-only (the progress control): runs no workload; from this many ms after the start it
   * keeps the lock's waiter slot taken without asking for the lock.
   */
  squatAfterMs?: number;
}

export interface Scenario {
  name: string;
  description: string;
  clients: ClientSpec[];
  /** SIGSTOP a holder after its claim for longer than its lease, then SIGCONT. */
  pause?: boolean;
  /** SIGKILL a holder after its claim; a new process takes its place. */
  kill?: boolean;
  /** Stop DynamoDB Local and start it again on the same port and folder. */
  dbRestart?: boolean;
  /** SIGKILL a library caller while its acquire waits; a new process takes its place. */
  killWaiter?: boolean;
  /** SIGSTOP a library caller while its acquire waits, until past its deadline, then SIGCONT. */
  pauseWaiter?: boolean;
  /** Delete the lock's item while callers wait (only while the lock is free, as TTL would). */
  deleteItem?: boolean;
  /** Probability that the response of an applied write is lost (acquire, release, claim, write). */
  lostResponseRate?: number;
  /** Scales the run's `--duration`, for scenarios that must fit several faults. @default 1 */
  durationFactor?: number;
  /** How long a holder works inside its section, in ms. @default [5, 30] */
  workMs?: [number, number];
  /** Test-only: unfenced register writes. The checker must then report violations. */
  unfenced?: boolean;
  /**
   * The semaphore workload on a semaphore of this many permits (acquire, hold, release: no
   * register). @default the lock workload
   */
  permits?: number;
  /**
   * A negative control: broken on purpose, so the checker must report violations (at least
   * one of `mustCatch`, when named).
   */
  control?: { mustCatch?: CheckName };
}

const lib: ClientSpec = { transport: 'library' };
const http: ClientSpec = { transport: 'http' };
/**
 * A permit is held longer than the lock, longer than a DynamoDB request takes even on a busy
 * machine: so N permits are often held at once, and a permit taken past the limit then
 * overlaps them (the lock's register writes give its section that length by themselves).
 */
const PERMIT_WORK_MS: [number, number] = [50, 150];

/**
 * The waiting mix of issue 19, one caller per process: try-locks (a third of the callers),
 * impatient callers (waiting up to 400 ms, often giving up behind others) and patient ones (up
 * to 1.5 or 3 s), over the library and the HTTP API, holding the lock briefly, so that callers
 * wait behind each other, and give up, all the time.
 */
const WAITING_CLIENTS: ClientSpec[] = [
  { transport: 'library', waitMs: 0 },
  { transport: 'library', waitMs: [1, 3_000] },
  { transport: 'library', waitMs: [1, 400] },
  { transport: 'library', waitMs: [500, 1_500] },
  { transport: 'http', waitMs: 0 },
  { transport: 'http', waitMs: [1, 400] },
];
const WAITING_WORK_MS: [number, number] = [10, 40];

export const SCENARIOS: Scenario[] = [
  {
    name: 'pause',
    description: 'SIGSTOP a holder past its lease inside its section, then SIGCONT',
    clients: [lib, lib, http, http],
    pause: true,
  },
  {
    name: 'kill',
    description: 'SIGKILL a holder inside its section',
    clients: [lib, lib, http, http],
    kill: true,
  },
  {
    name: 'db-restart',
    description: 'stop and restart DynamoDB Local (state kept on disk) mid-run',
    clients: [lib, lib, http, http],
    dbRestart: true,
  },
  {
    name: 'clock-skew',
    description: 'one client clock 2.5 leases ahead, one 2.5 leases behind',
    clients: [
      lib,
      { transport: 'library', clockOffsetLeases: 2.5 },
      { transport: 'library', clockOffsetLeases: -2.5 },
      http,
    ],
  },
  {
    name: 'lost-response',
    description: '15% of applied writes lose their response; clients retry',
    clients: [lib, lib, http, http],
    lostResponseRate: 0.15,
  },
  {
    name: 'mixed',
    description: 'pauses, kills, a restart, lost responses and a clock ahead, together',
    clients: [lib, { transport: 'library', clockOffsetLeases: 2.5 }, http, http],
    pause: true,
    kill: true,
    dbRestart: true,
    lostResponseRate: 0.05,
    durationFactor: 2,
  },
  {
    name: 'semaphore',
    description:
      'five clients on a semaphore of 2 permits: pauses, kills, a restart, 10% lost responses',
    clients: [lib, lib, lib, http, http],
    permits: 2,
    pause: true,
    kill: true,
    dbRestart: true,
    lostResponseRate: 0.1,
    durationFactor: 1.5,
    workMs: PERMIT_WORK_MS,
  },
  {
    name: 'semaphore-skew',
    description: 'the semaphore with one client clock 2.5 leases ahead, one 2.5 leases behind',
    clients: [
      lib,
      { transport: 'library', clockOffsetLeases: 2.5 },
      { transport: 'library', clockOffsetLeases: -2.5 },
      http,
      http,
    ],
    permits: 2,
    durationFactor: 0.5,
    workMs: PERMIT_WORK_MS,
  },
  {
    name: 'waiter-kill',
    description: 'the waiting mix; SIGKILL callers while their acquire waits',
    clients: WAITING_CLIENTS,
    killWaiter: true,
    workMs: WAITING_WORK_MS,
  },
  {
    name: 'waiter-pause',
    description: 'the waiting mix; SIGSTOP a waiting caller until past its deadline, then SIGCONT',
    clients: WAITING_CLIENTS,
    pauseWaiter: true,
    workMs: WAITING_WORK_MS,
    durationFactor: 1.5,
  },
  {
    name: 'item-delete',
    description:
      "the waiting mix; delete the lock's item (while free, as TTL would) as callers wait",
    clients: WAITING_CLIENTS,
    deleteItem: true,
    workMs: WAITING_WORK_MS,
  },
];

/** The pause scenario with fencing switched off in the register write. */
export const NEGATIVE_CONTROL: Scenario = {
  name: 'negative-control',
  description: 'the pause scenario with unfenced register writes: must be caught',
  clients: [lib, lib, http, http],
  pause: true,
  unfenced: true,
  control: {},
};

/** The semaphore workload with one client that takes its permits past the limit. */
export const SEMAPHORE_CONTROL: Scenario = {
  name: 'semaphore-control',
  description: 'the semaphore workload with one client overcommitting: more than N permits held',
  clients: [{ transport: 'library', overcommit: true }, lib, lib, http, http],
  permits: 2,
  workMs: PERMIT_WORK_MS,
  control: { mustCatch: 'at-most-n-permits' },
};

/** The waiting mix with one process that holds the waiter slot, never asking for the lock. */
export const PROGRESS_CONTROL: Scenario = {
  name: 'progress-control',
  description:
    'the waiting mix with a squatter in the waiter slot from 1 s: free locks unobtainable',
  clients: [...WAITING_CLIENTS, { transport: 'library', squatAfterMs: 1_000 }],
  workMs: WAITING_WORK_MS,
  control: { mustCatch: 'progress' },
};

/** Every default run ends with these, on its first seed. */
export const NEGATIVE_CONTROLS: Scenario[] = [
  NEGATIVE_CONTROL,
  SEMAPHORE_CONTROL,
  PROGRESS_CONTROL,
];
