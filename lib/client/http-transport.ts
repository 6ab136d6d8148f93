import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
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
  type RemoteError,
} from './transport.js';

export interface HttpTransportOptions {
  /** Base URL of the API, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/prod` or `http://localhost:3000`. */
  endpoint: string;
  /** Sign requests with SigV4. @default true when the endpoint is an AWS host (`*.amazonaws.com`) */
  sign?: boolean;
  /** Region for signing. @default read from the endpoint's host, else `AWS_REGION` */
  region?: string;
  /** Credentials for signing. @default the AWS SDK's default credential chain */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Per-request timeout. @default 35,000 ms (above API Gateway's 29 s) */
  timeoutMs?: number;
}

const isAwsHost = (url: URL) => url.hostname.endsWith('.amazonaws.com');

/**
 * Talks to the lock service's HTTP API, signing each request with SigV4 (IAM authorization).
 *
 * @example
 * const transport = new HttpTransport({ endpoint: process.env.LOCK_API_URL! });
 */
export class HttpTransport implements LockTransport {
  private readonly base: URL;
  private readonly signer?: SignatureV4;
  private readonly timeoutMs: number;

  constructor(options: HttpTransportOptions) {
    this.base = new URL(options.endpoint.endsWith('/') ? options.endpoint : `${options.endpoint}/`);
    this.timeoutMs = options.timeoutMs ?? 35_000;
    if (options.sign ?? isAwsHost(this.base)) {
      const region =
        options.region ??
        /\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com$/.exec(this.base.hostname)?.[1] ??
        process.env.AWS_REGION;
      if (!region)
        throw new Error('HttpTransport: cannot tell the region to sign for; pass `region`');
      this.signer = new SignatureV4({
        service: 'execute-api',
        region,
        credentials: options.credentials ?? defaultProvider(),
        sha256: Sha256,
      });
    }
  }

  acquire(lockId: string, options: AcquireOptions): Promise<Grant> {
    return this.call(lockId, 'POST', '/acquire', acquireFields(options));
  }

  renew(lockId: string, options: RenewOptions): Promise<Grant> {
    return this.call(lockId, 'POST', '/renew', renewFields(options));
  }

  release(lockId: string, options: ReleaseOptions): Promise<{ released: boolean }> {
    return this.call(lockId, 'POST', '/release', { owner: options.owner, token: options.token });
  }

  get(lockId: string): Promise<LockState> {
    return this.call(lockId, 'GET', '');
  }

  forceRelease(lockId: string): Promise<{ released: boolean }> {
    return this.call(lockId, 'DELETE', '');
  }

  private async call<T>(
    lockId: string,
    method: string,
    suffix: string,
    body?: unknown,
  ): Promise<T> {
    const url = new URL(`locks/${encodeURIComponent(lockId)}${suffix}`, this.base);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let headers: Record<string, string> = {
      host: url.host,
      accept: 'application/json',
      ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
    };
    if (this.signer) {
      const signed = await this.signer.sign(
        new HttpRequest({
          method,
          protocol: url.protocol,
          hostname: url.hostname,
          ...(url.port ? { port: Number(url.port) } : {}),
          // The signature covers the path exactly as sent, percent-encoding included.
          path: url.pathname,
          headers,
          body: payload,
        }),
      );
      headers = signed.headers;
    }
    const response = await fetch(url, {
      method,
      headers,
      body: payload,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : {};
    } catch {
      throw new LockServiceError(
        `lock service answered ${response.status} with a non-JSON body`,
        response.status,
      );
    }
    if (!response.ok) throw decodeRemoteError(lockId, parsed as RemoteError, response.status);
    return parsed as T;
  }
}
