// What `list` costs: a listing is a Scan, which reads every item of the table whatever the
// prefix or the page size. Measured on DynamoDB Local over a fresh table of N locks (a third
// released, some owners tracked in the registry, whose items are read but never listed), per
// 1,000 locks: requests, read units as DynamoDB reports them (eventually consistent reads) and
// time, at two page sizes. `npm run bench -- --skip uncontended,contended,takeover,peer-defaults,cost,lambda`
// runs this section alone; `--list-locks N` sets the table size.
import { randomUUID } from 'node:crypto';
import { createDocumentClient, createLockTable, LIMITS, LockManager } from '../lib/index.js';
import { localDynamoClient } from '../local/dynamodb-local.js';

/** The figures of one page size. */
export interface ListCostLine {
  pageSize: number;
  /** Locks the listing returned (all of them: the run checks it). */
  locks: number;
  requestsPer1000: number;
  readUnitsPer1000: number;
  msPer1000: number;
}

export interface ListCost {
  locks: number;
  registryItems: number;
  lines: ListCostLine[];
}

const PAGE_SIZES = [LIMITS.listLimitDefault, LIMITS.listLimitMax];

/**
 * Fills a fresh table with `locks` locks and lists them all at each page size.
 *
 * @example const cost = await measureListCost('http://127.0.0.1:8000', 2_000);
 */
export async function measureListCost(endpoint: string, locks: number): Promise<ListCost> {
  const ddb = localDynamoClient(endpoint);
  const tableName = `bench-list-${randomUUID()}`;
  await createLockTable(ddb, tableName);
  // Each Scan reports what it consumed; the listing itself does not ask, so this adds it.
  let requests = 0;
  let readUnits = 0;
  ddb.middlewareStack.add(
    (next, context) => async (args) => {
      const scan = context.commandName === 'ScanCommand';
      if (scan) (args.input as Record<string, unknown>).ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      if (scan) {
        requests++;
        const output = result.output as { ConsumedCapacity?: { CapacityUnits?: number } };
        readUnits += output.ConsumedCapacity?.CapacityUnits ?? 0;
      }
      return result;
    },
    { step: 'initialize', name: 'listCost' },
  );
  const manager = new LockManager({ tableName, client: createDocumentClient(ddb) });
  let registryItems = 0;
  try {
    for (let at = 0; at < locks; at += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, locks - at) }, async (_, k) => {
          const i = at + k;
          const lockId = `jobs/${i % 10}/${i}`;
          const track = i % 50 === 0;
          if (track) registryItems++;
          const grant = await manager.acquire(lockId, {
            owner: `worker-${i}`,
            trackOwner: track,
            data: { job: i },
          });
          if (i % 3 === 0) await manager.release(lockId, grant);
        }),
      );
    }
    const lines: ListCostLine[] = [];
    for (const pageSize of PAGE_SIZES) {
      requests = 0;
      readUnits = 0;
      let seen = 0;
      let cursor: string | undefined;
      const startedAt = performance.now();
      do {
        const page = await manager.list({ limit: pageSize, ...(cursor ? { cursor } : {}) });
        seen += page.locks.length;
        cursor = page.cursor;
      } while (cursor !== undefined);
      const ms = performance.now() - startedAt;
      if (seen !== locks) throw new Error(`list returned ${seen} locks of ${locks}`);
      const per1000 = (value: number) => Math.round((value / locks) * 1000 * 10) / 10;
      lines.push({
        pageSize,
        locks: seen,
        requestsPer1000: per1000(requests),
        readUnitsPer1000: per1000(readUnits),
        msPer1000: per1000(ms),
      });
    }
    return { locks, registryItems, lines };
  } finally {
    ddb.destroy();
  }
}

/** The figures as text for the bench's report. */
export function renderListCost(cost: ListCost): string {
  const rows = cost.lines.map(
    (line) =>
      `  page size ${String(line.pageSize).padStart(4)}: ${line.requestsPer1000} Scan requests, ` +
      `${line.readUnitsPer1000} read units, ${line.msPer1000} ms per 1,000 locks`,
  );
  return [
    `list (a Scan of the whole table): ${cost.locks} locks and ${cost.registryItems} registry items, DynamoDB Local`,
    ...rows,
    '  (read units as DynamoDB Local reports them for eventually consistent Scans; the whole',
    '  table is read whatever the prefix, so a listing of any prefix costs the same)',
  ].join('\n');
}
