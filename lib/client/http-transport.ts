import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { SignatureV4 } from '@smithy/signature-v4';
import { fromHttpError } from '../contract/error-codec.js';
import { pathFor } from '../contract/http.js';
import { LIST, type ListOptions, listPath, type ListResult } from '../contract/list.js';
import { OPERATIONS, type OperationName, type OutputOf } from '../contract/operations.js';
import { LockServiceUnavailable } from '../core/errors.js';
import { parseRequestTimeoutMs, withinTimeout } from '../core/request-timeout.js';
import {
  reaching,
  RemoteTransport,
  SERVICE_TIMEOUT_MS_DEFAULT,
  serviceRequestTimeout,
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
  /**
   * How long the API may take to answer one request beyond the wait the request asks for, in
   * ms; then the call fails with `LockServiceUnavailable`.
   * @default 10,000
   */
  requestTimeoutMs?: number;
  /** @deprecated Renamed `requestTimeoutMs`. */
  timeoutMs?: number;
}

const isAwsHost = (url: URL) => url.hostname.endsWith('.amazonaws.com');

// The signer and the credential chain load only when a request is signed: a client of a local
// or unsigned endpoint never loads them.
async function createSigner(
  region: string,
  credentials: HttpTransportOptions['credentials'],
): Promise<SignatureV4> {
  const [{ SignatureV4 }, { Sha256 }, provider] = await Promise.all([
    import('@smithy/signature-v4'),
    import('@aws-crypto/sha256-js'),
    credentials ? undefined : import('@aws-sdk/credential-provider-node'),
  ]);
  return new SignatureV4({
    service: 'execute-api',
    region,
    credentials: credentials ?? provider!.defaultProvider(),
    sha256: Sha256,
  });
}

/**
 * Talks to the lock service's HTTP API, signing each request with SigV4 (IAM authorization).
 *
 * @example
 * const transport = new HttpTransport({ endpoint: process.env.LOCK_API_URL! });
 */
export class HttpTransport extends RemoteTransport {
  private readonly base: URL;
  private readonly timeoutMs: number;
  private readonly signer?: () => Promise<SignatureV4>;

  constructor(options: HttpTransportOptions) {
    super();
    this.base = new URL(options.endpoint.endsWith('/') ? options.endpoint : `${options.endpoint}/`);
    this.timeoutMs = parseRequestTimeoutMs(
      options.requestTimeoutMs ?? options.timeoutMs,
      SERVICE_TIMEOUT_MS_DEFAULT,
    );
    if (options.sign ?? isAwsHost(this.base)) {
      const region =
        options.region ??
        /\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com$/.exec(this.base.hostname)?.[1] ??
        process.env.AWS_REGION;
      if (!region)
        throw new Error('HttpTransport: cannot tell the region to sign for; pass `region`');
      let signer: Promise<SignatureV4> | undefined;
      this.signer = () => (signer ??= createSigner(region, options.credentials));
    }
  }

  protected async send<O extends OperationName>(
    operation: O,
    lockId: string,
    fields: Record<string, unknown>,
  ): Promise<OutputOf<O>> {
    const { method } = OPERATIONS[operation];
    const payload = method === 'POST' ? JSON.stringify(fields) : undefined;
    return this.exchange<OutputOf<O>>(method, pathFor(operation, lockId), payload, lockId, fields);
  }

  protected sendList(fields: ListOptions): Promise<ListResult> {
    return this.exchange<ListResult>(LIST.method, listPath(fields), undefined, '', {});
  }

  private async exchange<T>(
    method: string,
    path: string,
    payload: string | undefined,
    lockId: string,
    // The request's fields: a wait it asks the service for lengthens its timeout.
    fields: Record<string, unknown>,
  ): Promise<T> {
    // The base may carry a stage path (`/prod/`): routes are relative to it.
    const url = new URL(path.slice(1), this.base);
    const headers = await this.headers(method, url, payload);
    // One timeout covers the answer's headers and its body.
    const { response, text } = await reaching(`the lock API at ${url.href}`, () =>
      withinTimeout(
        serviceRequestTimeout(this.timeoutMs, fields),
        `the lock API at ${url.href}`,
        async (signal) => {
          const response = await fetch(url, { method, headers, body: payload, signal });
          return { response, text: await response.text() };
        },
      ),
    );
    if (!response.ok) throw fromHttpError(response.status, text, lockId);
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      throw new LockServiceUnavailable(
        `the lock API answered ${response.status} with a body that is not JSON`,
        { cause, statusCode: response.status },
      );
    }
  }

  private async headers(method: string, url: URL, payload: string | undefined) {
    const headers: Record<string, string> = {
      host: url.host,
      accept: 'application/json',
      ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
    };
    if (!this.signer) return headers;
    const { HttpRequest } = await import('@smithy/protocol-http');
    const signed = await (
      await this.signer()
    ).sign(
      new HttpRequest({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        // The signature covers the path exactly as sent, percent-encoding included.
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers,
        body: payload,
      }),
    );
    return signed.headers;
  }
}
