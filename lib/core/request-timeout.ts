// Every request gets a deadline in one place. The lock core's DynamoDB client is wrapped, so no
// call site has to remember it (an injected client included, itself unchanged); the client's
// remote transports run each request through `withinTimeout` too.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LockServiceUnavailable } from './errors.js';
import { LIMITS } from './limits.js';
import { parseInteger } from './validation.js';

/**
 * A request timeout in ms, or `fallback` when absent.
 *
 * @example const ms = parseRequestTimeoutMs(options.requestTimeoutMs);
 */
export const parseRequestTimeoutMs = (
  value: unknown,
  fallback: number = LIMITS.requestTimeoutMsDefault,
): number => parseInteger('requestTimeoutMs', value ?? fallback, 1, LIMITS.requestTimeoutMsMax);

/**
 * Runs `run` with a signal that aborts after `timeoutMs`, and fails with a
 * {@link LockServiceUnavailable} saying `what` did not answer in time. The failure does not wait
 * for `run` to notice the abort: a request stuck where no signal reaches still ends on time.
 *
 * @example
 * const response = await withinTimeout(10_000, 'the lock API', (signal) => fetch(url, { signal }));
 */
export async function withinTimeout<T>(
  timeoutMs: number,
  what: string,
  run: (signal: AbortSignal) => Promise<T>,
  given?: AbortSignal,
): Promise<T> {
  const controller = new AbortController();
  const signal = given ? AbortSignal.any([given, controller.signal]) : controller.signal;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new LockServiceUnavailable(`${what} did not answer within ${timeoutMs} ms`);
      controller.abort(err);
      reject(err);
    }, timeoutMs);
  });
  try {
    return await Promise.race([run(signal), expired]);
  } catch (err) {
    if (controller.signal.aborted) throw controller.signal.reason;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

type Send = (command: unknown, options?: unknown, callback?: unknown) => unknown;

/**
 * A view of `client` whose every `send` (the SDK's retries included) ends within `timeoutMs`,
 * with a {@link LockServiceUnavailable} naming the timeout. A caller's own `abortSignal` still
 * works; `client` itself is not changed.
 *
 * @example const doc = withRequestTimeout(createDocumentClient(), 3_000);
 */
export function withRequestTimeout(
  client: DynamoDBDocumentClient,
  timeoutMs: number,
): DynamoDBDocumentClient {
  const send = client.send.bind(client) as Send;
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver) as unknown;
      return (command: unknown, options?: unknown, callback?: unknown) => {
        // The callback forms are passed through untimed: the lock core never uses them.
        if (typeof options === 'function' || typeof callback === 'function') {
          return send(command, options, callback);
        }
        const given = (options as { abortSignal?: AbortSignal } | undefined)?.abortSignal;
        return withinTimeout(
          timeoutMs,
          'DynamoDB',
          (abortSignal) =>
            send(command, { ...(options as object), abortSignal }) as Promise<unknown>,
          given,
        );
      };
    },
  });
}
