// Local adapter: plain HTTP -> API Gateway REST proxy event (v1) -> the very same handler code.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ValidationError } from '../lib/core/index.js';
import { createApiHandler, type ApiHandler } from '../lambdas/http/api.js';
import { lambdaContext } from './lambda-context.js';
import { errorResponse } from '../lambdas/http/http-errors.js';
import { API_GATEWAY_TIMEOUT_MS, matchPath } from '../lib/contract/http.js';
import { readConfig } from '../lambdas/service/config.js';
import { LockUseCase } from '../lambdas/service/lock-use-case.js';

export interface LocalServerOptions {
  /** The locks table, which must exist (see `createLockTable`). */
  tableName: string;
  /** The DynamoDB (Local) endpoint, e.g. `http://127.0.0.1:8000`. */
  dynamodbEndpoint: string;
  /** 0 picks a free port. @default 3000 */
  port?: number;
  /** @default 127.0.0.1 (this machine only) */
  host?: string;
}

export interface LocalServer {
  /** Base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  port: number;
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

/** Header names keep the client's spelling, as API Gateway passes them. */
function headersOf(req: IncomingMessage) {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const [name, value] = [req.rawHeaders[i], req.rawHeaders[i + 1]];
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  return { headers, multiValueHeaders };
}

function queryOf(query: string) {
  if (query === '') return { queryStringParameters: null, multiValueQueryStringParameters: null };
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of new URLSearchParams(query)) {
    single[name] = value;
    (multi[name] ??= []).push(value);
  }
  return { queryStringParameters: single, multiValueQueryStringParameters: multi };
}

/** Builds the event API Gateway would send for this request to a Lambda proxy integration. */
function toProxyEvent(
  req: IncomingMessage,
  body: string | null,
  requestId: string,
): APIGatewayProxyEvent {
  const rawUrl = req.url ?? '/';
  const queryAt = rawUrl.indexOf('?');
  // The raw path, still percent-encoded: API Gateway hands path parameters over undecoded.
  const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
  const query = queryAt === -1 ? '' : rawUrl.slice(queryAt + 1);
  const matched = matchPath(path);
  const resource = matched?.resource ?? '/{proxy+}';
  const pathParameters = matched
    ? { lockId: matched.rawLockId }
    : { proxy: path.replace(/^\//, '') };
  const { headers, multiValueHeaders } = headersOf(req);
  const httpMethod = req.method ?? 'GET';
  const now = Date.now();
  return {
    resource,
    path,
    httpMethod,
    headers,
    multiValueHeaders,
    ...queryOf(query),
    pathParameters,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: undefined,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        user: null,
        userAgent: req.headers['user-agent'] ?? null,
        userArn: null,
      },
      path: `/local${path}`,
      stage: 'local',
      requestId,
      requestTimeEpoch: now,
      resourceId: 'local',
      resourcePath: resource,
    },
  };
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

async function serve(handler: ApiHandler, req: IncomingMessage, res: ServerResponse) {
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
  send(
    res,
    await handler(
      toProxyEvent(req, body, requestId),
      lambdaContext(FUNCTION_NAME, API_GATEWAY_TIMEOUT_MS, requestId),
    ),
  );
}

/**
 * Serves the lock API over plain HTTP by turning each request into an API Gateway proxy event
 * for the same handler code the Lambda runs, and its result back into an HTTP response.
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
  const server = createServer((req, res) => {
    serve(handler, req, res).catch((err: unknown) => {
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
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      service.close();
    },
  };
}
