// The scenarios of the harness: one per fault, a mixed one, a semaphore under the faults, and
// the negative controls.
import type { CheckName } from './checker.js';

/** One client process of a scenario. */
export interface ClientSpec {
  transport: 'library' | 'http';
  /** Offset of the client's clock, as a multiple of the lease (library clients only). @default 0 */
  clockOffsetLeases?: number;
  /** Test-only: writes its permits past the semaphore's limit (library clients only). */
  overcommit?: boolean;
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

/** Every default run ends with these, on its first seed. */
export const NEGATIVE_CONTROLS: Scenario[] = [NEGATIVE_CONTROL, SEMAPHORE_CONTROL];
