import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** DynamoDB operations that only read, and those that write (capacity is billed apart). */
const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const WRITES = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
]);

/** What the proxy has seen since the last reset. */
export interface RequestCounts {
  reads: number;
  writes: number;
  /** Control-plane and anything else (DescribeTable, ...). */
  other: number;
  byOperation: Record<string, number>;
  /**
   * On-demand request units the reads would be billed: 1 per strongly consistent read and 0.5
   * per eventually consistent one, for items up to 4 KB (every lock item here is far smaller).
   * Writes are billed 1 unit each for items up to 1 KB, so their units equal `writes`.
   */
  readUnits: number;
}

export interface CountingProxy {
  /** Point an SDK client here instead of at DynamoDB. */
  endpoint: string;
  counts(): RequestCounts;
  reset(): void;
  /** The delay added to every request from now on (see `rttMs`). */
  setRttMs(rttMs: number): void;
  close(): Promise<void>;
}

export interface CountingProxyOptions {
  /**
   * A fixed round-trip time added to every request, standing in for the network between a
   * client and DynamoDB: half before the request is forwarded, half before the answer is sent,
   * so a write lands in the middle, as over a real network.
   *
   * @default 0
   */
  rttMs?: number;
}

const sleep = (ms: number) =>
  ms > 0 ? new Promise<void>((resolve) => setTimeout(resolve, ms)) : Promise.resolve();

/**
 * An HTTP proxy in front of DynamoDB (Local) that counts every request by the operation named in
 * its `X-Amz-Target` header, and can delay each by a fixed round trip. Sitting on the wire, it
 * sees every system's requests alike, whatever SDK or adapter sends them, retries included.
 *
 * @example
 * const proxy = await startCountingProxy(db.endpoint, { rttMs: 4 });
 * const client = localDocumentClient(proxy.endpoint);
 * // ... run a workload ...
 * console.log(proxy.counts()); // { reads: 0, writes: 2, ... }
 */
export async function startCountingProxy(
  target: string,
  options: CountingProxyOptions = {},
): Promise<CountingProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  let byOperation: Record<string, number> = {};
  let readUnits = 0;
  let rttMs = checkRtt(options.rttMs ?? 0);

  const server = createServer((req, res) => {
    const header = req.headers['x-amz-target'];
    const operation = (Array.isArray(header) ? header[0] : header)?.split('.').pop() ?? 'unknown';
    byOperation[operation] = (byOperation[operation] ?? 0) + 1;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (READS.has(operation)) readUnits += consistentRead(body) ? 1 : 0.5;
      // Read at arrival, so a change of RTT never splits one request's round trip.
      const half = rttMs / 2;
      void sleep(half).then(() => {
        const forward = request(
          {
            host: upstream.hostname,
            port: upstream.port,
            method: req.method,
            path: req.url,
            headers: req.headers,
            agent,
          },
          (answer) => {
            const answerChunks: Buffer[] = [];
            answer.on('data', (chunk: Buffer) => answerChunks.push(chunk));
            answer.on('end', () => {
              void sleep(half).then(() => {
                res.writeHead(answer.statusCode ?? 502, answer.headers);
                res.end(Buffer.concat(answerChunks));
              });
            });
          },
        );
        forward.on('error', (err) => {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`proxy: ${err.message}`);
        });
        forward.end(body);
      });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts() {
      const counts: RequestCounts = {
        reads: 0,
        writes: 0,
        other: 0,
        byOperation: { ...byOperation },
        readUnits,
      };
      for (const [operation, n] of Object.entries(byOperation)) {
        if (READS.has(operation)) counts.reads += n;
        else if (WRITES.has(operation)) counts.writes += n;
        else counts.other += n;
      }
      return counts;
    },
    reset() {
      byOperation = {};
      readUnits = 0;
    },
    setRttMs(ms) {
      rttMs = checkRtt(ms);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

function checkRtt(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`rttMs must be >= 0, got ${ms}`);
  return ms;
}

/** Whether a read request asks for a strongly consistent read (billed a whole unit). */
function consistentRead(body: Buffer): boolean {
  try {
    return (
      (JSON.parse(body.toString('utf8')) as { ConsistentRead?: unknown }).ConsistentRead === true
    );
  } catch {
    return true; // unknown: count the dearer kind
  }
}
