import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type {
  AcquireOptions,
  Grant,
  LockState,
  ReleaseOptions,
  RenewOptions,
} from '../core/index.js';
import {
  acquireFields,
  decodeRemoteError,
  LockServiceError,
  renewFields,
  type LockTransport,
} from './transport.js';

export interface LambdaTransportOptions {
  /** Name or ARN of the lock service's direct-invocation function. */
  functionName: string;
  /** @default `new LambdaClient({})` (the default AWS configuration) */
  client?: LambdaClient;
}

/**
 * Calls the lock service's direct-invocation function with `Lambda.invoke`, skipping API Gateway.
 *
 * @example
 * const transport = new LambdaTransport({ functionName: process.env.LOCK_FUNCTION_NAME! });
 */
export class LambdaTransport implements LockTransport {
  readonly client: LambdaClient;
  private readonly functionName: string;

  constructor(options: LambdaTransportOptions) {
    this.functionName = options.functionName;
    this.client = options.client ?? new LambdaClient({});
  }

  acquire(lockId: string, options: AcquireOptions): Promise<Grant> {
    return this.invoke(lockId, { action: 'acquire', ...acquireFields(options) });
  }

  renew(lockId: string, options: RenewOptions): Promise<Grant> {
    return this.invoke(lockId, { action: 'renew', ...renewFields(options) });
  }

  release(lockId: string, options: ReleaseOptions): Promise<{ released: boolean }> {
    return this.invoke(lockId, { action: 'release', owner: options.owner, token: options.token });
  }

  get(lockId: string): Promise<LockState> {
    return this.invoke(lockId, { action: 'get' });
  }

  forceRelease(lockId: string): Promise<{ released: boolean }> {
    return this.invoke(lockId, { action: 'forceRelease' });
  }

  private async invoke<T>(lockId: string, event: Record<string, unknown>): Promise<T> {
    const response = await this.client.send(
      new InvokeCommand({
        FunctionName: this.functionName,
        Payload: new TextEncoder().encode(JSON.stringify({ ...event, lockId })),
      }),
    );
    const text = response.Payload ? new TextDecoder().decode(response.Payload) : '';
    let payload: unknown;
    try {
      payload = text.length > 0 ? JSON.parse(text) : null;
    } catch {
      throw new LockServiceError('lock function returned a non-JSON payload', 500);
    }
    if (response.FunctionError) {
      // The Lambda runtime keeps only a thrown error's type and message.
      const { errorType, errorMessage } = (payload ?? {}) as Record<string, unknown>;
      throw decodeRemoteError(lockId, { error: errorType, message: errorMessage }, 500);
    }
    return payload as T;
  }
}
