import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from 'aws-lambda';
import { lambdaContext } from './lambda-context.js';

/** A handler as Lambda calls it. */
export type LocalFunction = (event: unknown, context: Context) => Promise<unknown>;

export interface LocalLambda {
  /** Pass as `endpoint` to a `LambdaClient`. */
  url: string;
  close(): Promise<void>;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Serves the Lambda Invoke API for local handlers, so the real `@aws-sdk/client-lambda` (and the
 * SDK's Lambda transport) can call handler code offline. Errors come back the way the Node.js
 * runtime reports them: status 200, `X-Amz-Function-Error: Unhandled`, and a body with only
 * `errorType`, `errorMessage` and `trace`.
 *
 * @example
 * const lambda = await startLocalLambda({ 'lock-direct': createInvokeHandler(service) });
 * new LambdaClient({ endpoint: lambda.url, region: 'local', credentials });
 */
export async function startLocalLambda(
  functions: Record<string, LocalFunction>,
  { port = 0, host = '127.0.0.1', timeoutMs = 30_000 } = {},
): Promise<LocalLambda> {
  const server = createServer(async (request, response) => {
    const match = INVOKE_PATH.exec(request.url?.split('?')[0] ?? '');
    const name = match ? decodeURIComponent(match[1]).split(':').at(-1) : undefined;
    const fn = name === undefined ? undefined : functions[name];
    if (request.method !== 'POST' || !fn || name === undefined) {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ Type: 'User', message: 'Function not found' }));
      return;
    }
    const text = await readBody(request);
    let payload: string;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-amz-executed-version': '$LATEST',
    };
    try {
      const event: unknown = text.length > 0 ? JSON.parse(text) : {};
      payload = JSON.stringify((await fn(event, lambdaContext(name, timeoutMs))) ?? null);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      headers['x-amz-function-error'] = 'Unhandled';
      payload = JSON.stringify({
        errorType: error.name,
        errorMessage: error.message,
        trace: (error.stack ?? '').split('\n'),
      });
    }
    response.writeHead(200, headers);
    response.end(payload);
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${bound}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
