// The history of one run: what each client process asked for, when, and what it saw.
// Clients append JSON lines as they go (so a killed process leaves its record behind);
// the checker reads them back as one list of operations.
import { appendFileSync, readFileSync } from 'node:fs';

/** The four steps of the workload. */
export type OpKind = 'acquire' | 'claim' | 'write' | 'release';

/**
 * Jepsen's three outcomes: `ok` it happened, `fail` it certainly did not, `info` unknown
 * (an error, a lost response, a process that never came back).
 */
export type OpResult = 'ok' | 'fail' | 'info';

/**
 * What really happened to a request whose response was thrown away on purpose (the
 * lost-response fault): known to the harness, hidden from the client's logic.
 */
export interface HiddenOutcome {
  /** acquire: the token of the grant that was written. */
  token?: number;
  /** acquire: the lease end of that grant. */
  expiresAt?: number;
  /** release: what the lost release answered. */
  released?: boolean;
  /** write: the fenced write was applied. */
  applied?: boolean;
}

/** One operation, invoked and (unless the process died first) completed. */
export interface Op {
  /** Unique in the run: `<process>:<n>`. */
  id: string;
  /** The client process's name (`c0`, `c1r1` for a replacement of a killed `c1`...). */
  process: string;
  f: OpKind;
  /** Who asked: one owner per loop iteration, kept across retries of the same acquire. */
  owner: string;
  /** The grant's token (all but acquire present one; acquire learns it on `ok`). */
  token?: number;
  /** Epoch ms (system clock, shared by every process on the machine) when the call began. */
  invokeAt: number;
  /** Epoch ms when the call returned; `null` if it never did. */
  completeAt: number | null;
  result: OpResult;
  /** acquire `ok`: the lease end as the lock table stored it. */
  expiresAt?: number;
  /** acquire: when the first attempt for this owner began (retries share it). */
  since?: number;
  /** acquire and release of a semaphore's permit: the semaphore's number of permits. */
  permits?: number;
  /** acquire: how long this call was allowed to wait for the lock (0: a try-lock). */
  waitMs?: number;
  /** release `ok`. */
  released?: boolean;
  /** claim `ok`: the register value read. */
  value?: number;
  /** The error's name for `fail` and `info`. */
  error?: string;
  hidden?: HiddenOutcome;
  /** The process's injected clock offset in ms (non-zero: its leases prove no exclusion). @default 0 */
  clockOffsetMs?: number;
  /** Lock operations went over the HTTP API rather than the library. */
  transport?: 'library' | 'http';
}

/** First line of each client file. */
export interface ProcessLine {
  ev: 'process';
  process: string;
  pid: number;
  transport: 'library' | 'http';
  clockOffsetMs: number;
}

export interface InvokeLine {
  ev: 'invoke';
  id: string;
  f: OpKind;
  owner: string;
  at: number;
  token?: number;
  since?: number;
  permits?: number;
  waitMs?: number;
}

export interface CompleteLine {
  ev: 'complete';
  id: string;
  at: number;
  result: OpResult;
  token?: number;
  expiresAt?: number;
  released?: boolean;
  value?: number;
  error?: string;
  hidden?: HiddenOutcome;
}

export type HistoryLine = ProcessLine | InvokeLine | CompleteLine;

/**
 * Appends lines synchronously: a SIGKILL can land at any instant, and whatever was
 * written before it must be on disk.
 *
 * @example
 * const log = new HistoryWriter('/tmp/run/c0.jsonl');
 * log.write({ ev: 'invoke', id: 'c0:1', f: 'acquire', owner: 'c0:1', at: Date.now() });
 */
export class HistoryWriter {
  constructor(readonly file: string) {}

  write(line: HistoryLine): void {
    appendFileSync(this.file, `${JSON.stringify(line)}\n`);
  }
}

/**
 * Reads the client files of one run into operations; an invoke without a completion
 * (the process was killed, or never finished) becomes an `info` op with `completeAt: null`.
 *
 * @example
 * const ops = readHistory(['/tmp/run/c0.jsonl', '/tmp/run/c1.jsonl']);
 */
export function readHistory(files: string[]): Op[] {
  const ops: Op[] = [];
  for (const file of files) {
    let meta: ProcessLine | undefined;
    const open = new Map<string, Op>();
    const text = readFileSync(file, 'utf8');
    for (const raw of text.split('\n')) {
      if (raw.trim() === '') continue;
      let line: HistoryLine;
      try {
        line = JSON.parse(raw) as HistoryLine;
      } catch {
        // A SIGKILL during appendFileSync can cut the last line short; it is the only one.
        continue;
      }
      if (line.ev === 'process') {
        meta = line;
      } else if (line.ev === 'invoke') {
        const op: Op = {
          id: line.id,
          process: meta?.process ?? file,
          f: line.f,
          owner: line.owner,
          invokeAt: line.at,
          completeAt: null,
          result: 'info',
          clockOffsetMs: meta?.clockOffsetMs ?? 0,
          transport: meta?.transport ?? 'library',
          ...(line.token === undefined ? {} : { token: line.token }),
          ...(line.since === undefined ? {} : { since: line.since }),
          ...(line.permits === undefined ? {} : { permits: line.permits }),
          ...(line.waitMs === undefined ? {} : { waitMs: line.waitMs }),
        };
        open.set(line.id, op);
        ops.push(op);
      } else {
        const op = open.get(line.id);
        if (!op) continue;
        open.delete(line.id);
        op.completeAt = line.at;
        op.result = line.result;
        for (const field of [
          'token',
          'expiresAt',
          'released',
          'value',
          'error',
          'hidden',
        ] as const) {
          if (line[field] !== undefined) Object.assign(op, { [field]: line[field] });
        }
      }
    }
  }
  return ops.sort((a, b) => a.invokeAt - b.invokeAt);
}
