// lockctl's operator commands: `ls` (every lock, page by page) and `watch` (one lock, over time).
import { setTimeout as sleep } from 'node:timers/promises';
import type { LockClient } from '../client/lock-client.js';
import { ValidationError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import type { LockState } from '../core/lock-manager.js';
import { formatDuration, parseDuration } from './durations.js';

/** `watch` reads the lock once per interval: this often unless `--interval` says otherwise. */
export const WATCH_INTERVAL_MS = { default: 1_000, min: 250, max: 3_600_000 } as const;

/** Locks `ls` asks for per page: each page is printed before the next is read. */
export const LS_PAGE_SIZE = LIMITS.listLimitDefault;

const COLUMNS = [
  'ID',
  'HOLDER',
  'TOKEN',
  'EXPIRES IN',
  'HELD FOR',
  'TRANSITIONS',
  'WAITING',
] as const;

const since = (now: number, at: number | undefined) =>
  at === undefined ? '-' : formatDuration(Math.max(0, now - at));
const until = (now: number, at: number | undefined) =>
  at === undefined ? '-' : formatDuration(Math.max(0, at - now));

/** One row of `ls`: a semaphore's holder column is its permits in use, `n/N`. */
export function rowOf(state: LockState, now: number): string[] {
  const history = [
    state.transitions === undefined ? '-' : String(state.transitions),
    String(state.waiting ?? 0),
  ];
  if (state.permits !== undefined) {
    const holders = state.holders ?? [];
    const first = holders[0];
    const oldest = Math.min(...holders.map((h) => h.acquiredAt ?? Number.POSITIVE_INFINITY));
    return [
      state.lockId,
      `${holders.length}/${state.permits} permits`,
      first === undefined ? '-' : String(state.token ?? '-'),
      until(now, first?.expiresAt),
      Number.isFinite(oldest) ? since(now, oldest) : '-',
      ...history,
    ];
  }
  if (!state.held) {
    return [state.lockId, '(free)', String(state.token ?? '-'), '-', '-', ...history];
  }
  return [
    state.lockId,
    state.owner ?? '',
    String(state.token ?? '-'),
    until(now, state.expiresAt),
    since(now, state.acquiredAt),
    ...history,
  ];
}

// A value with a space, a quote, a backslash or an invisible or control character (bidi
// overrides included) is printed JSON-quoted, so a hostile id or owner cannot break the table's
// columns or drive the terminal.
const cell = (value: string) =>
  value === '' || /[\s"\\\p{C}]/u.test(value)
    ? JSON.stringify(value).replace(
        /\p{C}/gu,
        (c) => `\\u{${c.codePointAt(0)?.toString(16) ?? ''}}`,
      )
    : value;

function table(rows: string[][], header: boolean): string {
  const all: string[][] = header ? [[...COLUMNS]] : [];
  all.push(...rows.map((row) => row.map(cell)));
  const widths = COLUMNS.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  return all
    .map((row) =>
      row.map((value, i) => (i === row.length - 1 ? value : value.padEnd(widths[i]))).join('  '),
    )
    .join('\n');
}

/**
 * `lockctl ls [PREFIX] [--all] [--json]`: held locks (with `--all`, free ones too), one page at
 * a time, so a table of any size is never held in memory. `--json` prints one JSON object per
 * lock per line (as `get` answers), ready for `jq`.
 */
export async function listCommand(
  client: LockClient,
  prefix: string | undefined,
  options: { all: boolean; json: boolean },
  out: NodeJS.WritableStream,
): Promise<void> {
  let cursor: string | undefined;
  let header = true;
  let shown = 0;
  do {
    const page = await client.list({
      limit: LS_PAGE_SIZE,
      ...(prefix === undefined ? {} : { prefix }),
      ...(cursor === undefined ? {} : { cursor }),
    });
    const locks = page.locks.filter((state) => options.all || state.held);
    shown += locks.length;
    if (options.json) {
      for (const state of locks) out.write(`${JSON.stringify(state)}\n`);
    } else if (locks.length > 0) {
      const now = Date.now();
      out.write(
        `${table(
          locks.map((state) => rowOf(state, now)),
          header,
        )}\n`,
      );
      header = false;
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
  if (!options.json && shown === 0) {
    out.write(
      `no ${options.all ? '' : 'held '}locks${prefix === undefined ? '' : ` under "${prefix}"`}\n`,
    );
  }
}

/** What `watch` compares between two reads: a change prints a line. */
const snapshot = (state: LockState) =>
  JSON.stringify([
    state.held,
    state.owner,
    state.token,
    state.expiresAt,
    state.waiting,
    state.transitions,
    state.holders?.map((h) => [h.owner, h.token, h.expiresAt]),
  ]);

function describeState(state: LockState, now: number): string {
  const [, holder, token, expiresIn, heldFor, transitions, waiting] = rowOf(state, now);
  if (state.permits === undefined && !state.held) {
    return `free (last token ${token}, transitions ${transitions}, waiting ${waiting})`;
  }
  const who = state.permits === undefined ? `held by ${cell(holder)}` : holder;
  return (
    `${who}, token ${token}, expires in ${expiresIn}, held for ${heldFor}, ` +
    `transitions ${transitions}, waiting ${waiting}`
  );
}

/** Reads `--interval` (a duration) and `--count` (reads before stopping). */
export function watchOptions(
  interval: string | undefined,
  count: number | undefined,
): { intervalMs: number; count?: number } {
  const intervalMs =
    interval === undefined ? WATCH_INTERVAL_MS.default : parseDuration('--interval', interval);
  if (intervalMs < WATCH_INTERVAL_MS.min || intervalMs > WATCH_INTERVAL_MS.max) {
    throw new ValidationError(
      '--interval',
      `--interval must be from ${WATCH_INTERVAL_MS.min}ms to 1h, got ${interval}`,
    );
  }
  if (count !== undefined && count < 1) {
    throw new ValidationError('--count', '--count must be at least 1');
  }
  return { intervalMs, ...(count === undefined ? {} : { count }) };
}

/**
 * `lockctl watch ID`: one read of the lock per interval (a strongly consistent GetItem, one
 * read unit, through the library; one request through the API or the function), a line each
 * time its holder, token, expiry, waiting callers or transitions change, until `stop` fires
 * (Ctrl-C) or `count` reads are done.
 */
export async function watchCommand(
  client: LockClient,
  lockId: string,
  options: { intervalMs: number; count?: number; json: boolean },
  stop: AbortSignal,
  out: NodeJS.WritableStream,
): Promise<void> {
  let last: string | undefined;
  for (let reads = 0; !stop.aborted && (options.count === undefined || reads < options.count);) {
    const state = await client.get(lockId);
    reads++;
    const now = Date.now();
    const seen = snapshot(state);
    if (seen !== last) {
      out.write(
        options.json
          ? `${JSON.stringify({ at: now, ...state })}\n`
          : `${new Date(now).toISOString()}  ${describeState(state, now)}\n`,
      );
      last = seen;
    }
    if (options.count !== undefined && reads >= options.count) break;
    await sleep(options.intervalMs, undefined, { signal: stop }).catch(() => undefined);
  }
}
