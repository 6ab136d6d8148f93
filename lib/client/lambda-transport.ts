import type { LambdaClient } from '@aws-sdk/client-lambda';
import { type FunctionErrorPayload, fromFunctionError } from '../contract/error-codec.js';
import { LIST, type ListOptions, type ListResult } from '../contract/list.js';
import type { OperationName, OutputOf } from '../contract/operations.js';
import { LockServiceUnavailable } from '../core/errors.js';
import { parseRequestTimeoutMs, withinTimeout } from '../core/request-timeout.js';
import {
  reaching,
  RemoteTransport,
  SERVICE_TIMEOUT_MS_DEFAULT,
  serviceRequestTimeout,
} from './transport.js';

export interface LambdaTransportOptions {
  /** Name or ARN of the lock service's direct-invocation function. */
  functionName: string;
  /** @default `new LambdaClient({})` (the default AWS configuration), made on first use */
  client?: LambdaClient;
  /**
   * How long the function may take to answer one invocation beyond the wait it asks for, in
   * ms; then the call fails with `LockServiceUnavailable`.
   * @default 10,000
   */
  requestTimeoutMs?: number;
}

// The Lambda SDK loads with the first invocation, so a program that only uses the HTTP or
// DynamoDB transport never loads it.
const lambdaSdk = () => import('@aws-sdk/client-lambda');

/**
 * Calls the lock service's direct-invocation function with `Lambda.invoke`, skipping API Gateway.
 * The event is `{ action, lockId, ...fields }`, the operation's name being the action.
 *
 * @example
 * const transport = new LambdaTransport({ functionName: process.env.LOCK_FUNCTION_NAME! });
 */
export class LambdaTransport extends RemoteTransport {
  private readonly functionName: string;
  private client?: LambdaClient;
  private readonly timeoutMs: number;

  constructor(options: LambdaTransportOptions) {
    super();
    this.functionName = options.functionName;
    this.client = options.client;
    this.timeoutMs = parseRequestTimeoutMs(options.requestTimeoutMs, SERVICE_TIMEOUT_MS_DEFAULT);
  }

  protected send<O extends OperationName>(
    operation: O,
    lockId: string,
    fields: Record<string, unknown>,
  ): Promise<OutputOf<O>> {
    return this.invoke<OutputOf<O>>({ action: operation, lockId, ...fields }, lockId);
  }

  protected sendList(fields: ListOptions): Promise<ListResult> {
    return this.invoke<ListResult>({ action: LIST.action, ...fields }, '');
  }

  private async invoke<T>(event: Record<string, unknown>, lockId: string): Promise<T> {
    const { InvokeCommand, LambdaClient } = await lambdaSdk();
    this.client ??= new LambdaClient({});
    const client = this.client;
    const command = new InvokeCommand({
      FunctionName: this.functionName,
      Payload: new TextEncoder().encode(JSON.stringify(event)),
    });
    const response = await reaching(`the lock function "${this.functionName}"`, () =>
      withinTimeout(
        serviceRequestTimeout(this.timeoutMs, event),
        `the lock function "${this.functionName}"`,
        (abortSignal) => client.send(command, { abortSignal }),
      ),
    );
    const text = response.Payload ? new TextDecoder().decode(response.Payload) : '';
    let payload: unknown;
    try {
      payload = text.length > 0 ? JSON.parse(text) : null;
    } catch (cause) {
      throw new LockServiceUnavailable('the lock function returned a payload that is not JSON', {
        cause,
        statusCode: 500,
      });
    }
    if (response.FunctionError) {
      throw fromFunctionError((payload ?? {}) as FunctionErrorPayload, lockId);
    }
    return payload as T;
  }
}
