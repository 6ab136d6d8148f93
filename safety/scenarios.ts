// The scenarios of the harness: one per fault, a mixed one, and the negative control.

/** One client process of a scenario. */
export interface ClientSpec {
  transport: 'library' | 'http';
  /** Offset of the client's clock, as a multiple of the lease (library clients only). @default 0 */
  clockOffsetLeases?: number;
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
  /** Test-only: unfenced register writes. The checker must then report violations. */
  unfenced?: boolean;
}

const lib: ClientSpec = { transport: 'library' };
const http: ClientSpec = { transport: 'http' };

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
];

/** The pause scenario with fencing switched off in the register write. */
export const NEGATIVE_CONTROL: Scenario = {
  name: 'negative-control',
  description: 'the pause scenario with unfenced register writes: must be caught',
  clients: [lib, lib, http, http],
  pause: true,
  unfenced: true,
};
