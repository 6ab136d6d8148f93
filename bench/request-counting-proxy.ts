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
}

export interface CountingProxy {
  /** Point an SDK client here instead of at DynamoDB. */
  endpoint: string;
  counts(): RequestCounts;
  reset(): void;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of DynamoDB (Local) that counts every request by the operation named in
 * its `X-Amz-Target` header. Sitting on the wire, it sees every system's requests alike, whatever
 * SDK or adapter sends them, retries included.
 *
 * @example
 * const proxy = await startCountingProxy(db.endpoint);
 * const client = localDocumentClient(proxy.endpoint);
 * // ... run a workload ...
 * console.log(proxy.counts()); // { reads: 0, writes: 2, ... }
 */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  let byOperation: Record<string, number> = {};

  const server = createServer((req, res) => {
    const header = req.headers['x-amz-target'];
    const operation = (Array.isArray(header) ? header[0] : header)?.split('.').pop() ?? 'unknown';
    byOperation[operation] = (byOperation[operation] ?? 0) + 1;
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
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', (err) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${err.message}`);
    });
    req.pipe(forward);
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
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
