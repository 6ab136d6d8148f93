// Local adapter: plain HTTP -> API Gateway proxy event (REST v1, or HTTP API v2 with
// `api: 'http'`) -> the very same handler code.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { ValidationError } from '../lib/core/index.js';
import { createApiHandler, type ApiHandler } from '../lambdas/http/api.js';
import { lambdaContext } from './lambda-context.js';
import { errorResponse } from '../lambdas/http/http-errors.js';
import { API_GATEWAY_TIMEOUT_MS, type ApiKind } from '../lib/contract/http.js';
import { readConfig } from '../lambdas/service/config.js';
import { LockUseCase } from '../lambdas/service/lock-use-case.js';
import { toApiEvent } from './api-events.js';

export interface LocalServerOptions {
  /** The locks table, which must exist (see `createLockTable`). */
  tableName: string;
  /** The DynamoDB (Local) endpoint, e.g. `http://127.0.0.1:8000`. */
  dynamodbEndpoint: string;
  /** 0 picks a free port. @default 3000 */
  port?: number;
  /** @default 127.0.0.1 (this machine only) */
  host?: string;
  /**
   * Which API Gateway API to stand in for: `rest` sends the handler REST API (v1) proxy events,
   * `http` sends HTTP API (payload format 2.0) events, decoded as API Gateway decodes them.
   *
   * @default 'rest' (the `LockService` default)
   */
  api?: ApiKind;
}

export interface LocalServer {
  /** Base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  port: number;
  /** The API kind whose events it builds. */
  api: ApiKind;
  /** Stops accepting requests, drops open connections and the DynamoDB client. */
  close(): Promise<void>;
}

/**
 * Bodies past this are refused before they reach the handler (API Gateway's own cap is 10 MB;
 * the handler refuses anything over 16 KB anyway), so a local client cannot exhaust memory.
 */
const LOCAL_MAX_BODY_BYTES = 1024 * 1024;
const FUNCTION_NAME = 'fenced-lock-local-api';

/** Reads the body up to the cap; past it, drains the rest and reports `tooLarge`. */
function readBody(
  req: IncomingMessage,
): Promise<{ body: string | null; tooLarge: number | false }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= LOCAL_MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (size > LOCAL_MAX_BODY_BYTES) resolve({ body: null, tooLarge: size });
      else
        resolve({
          body: size === 0 ? null : Buffer.concat(chunks).toString('utf8'),
          tooLarge: false,
        });
    });
  });
}

function send(res: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    headers[name] = values.map(String);
  }
  const body = Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8');
  headers['content-length'] = String(body.length);
  res.writeHead(result.statusCode, headers);
  res.end(body);
}

async function serve(handler: ApiHandler, api: ApiKind, req: IncomingMessage, res: ServerResponse) {
  const requestId = randomUUID();
  const { body, tooLarge } = await readBody(req);
  if (tooLarge !== false) {
    const error = new ValidationError(
      'body',
      `body must be at most ${LOCAL_MAX_BODY_BYTES} bytes, got ${tooLarge}`,
    );
    send(res, errorResponse(error, requestId));
    return;
  }
  const event = toApiEvent(api, {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    rawHeaders: req.rawHeaders,
    body,
    requestId,
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
    httpVersion: req.httpVersion,
  });
  send(res, await handler(event, lambdaContext(FUNCTION_NAME, API_GATEWAY_TIMEOUT_MS, requestId)));
}

/**
 * Serves the lock API over plain HTTP by turning each request into an API Gateway proxy event
 * (REST API or HTTP API, see `api`) for the same handler code the Lambda runs, and its result
 * back into an HTTP response.
 * Settings other than the table and endpoint come from the environment as in Lambda
 * (`DEFAULT_LEASE_MS`, `MAX_HTTP_WAIT_MS`, `POWERTOOLS_LOG_LEVEL`, ...).
 *
 * @example
 * const server = await startLocalServer({ tableName: 'locks', dynamodbEndpoint: db.endpoint, port: 0 });
 * await fetch(`${server.url}/locks/demo`);
 * await server.close();
 */
export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const config = readConfig({
    ...process.env,
    LOCK_TABLE_NAME: options.tableName,
    DYNAMODB_ENDPOINT: options.dynamodbEndpoint,
  });
  const service = new LockUseCase(config);
  const handler = createApiHandler(service);
  const api = options.api ?? 'rest';
  const server = createServer((req, res) => {
    serve(handler, api, req, res).catch((err: unknown) => {
      // Only a broken connection or a bug in this adapter gets here; the handler maps its own.
      service.logger.error('local server fault', err instanceof Error ? err : String(err));
      if (!res.headersSent) send(res, errorResponse(err, 'local'));
      else res.destroy();
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    api,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      service.close();
    },
  };
}
