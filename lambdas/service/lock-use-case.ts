import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { METRIC_NAMES } from '../../lib/contract/metric-names.js';
import { LIST } from '../../lib/contract/list.js';
import type { LockRequest, OutputOf } from '../../lib/contract/operations.js';
import {
  createDocumentClient,
  createDynamoClient,
  type ListOptions,
  type ListResult,
  type LockEvent,
  LockHeld,
  LockManager,
  LockServiceUnavailable,
  ValidationError,
} from '../../lib/core/index.js';
import type { ServiceConfig } from './config.js';

/** What an operation answers: a grant, a release outcome, or the lock's state. */
export type LockResponse = OutputOf<LockRequest['action']>;

/** Parts a test or the local server may supply instead of the defaults. */
export interface LockServiceParts {
  /** @default a DocumentClient for the configured endpoint, traced by the Tracer */
  client?: DynamoDBDocumentClient;
  /** @default `new Logger({ serviceName })`, level from `POWERTOOLS_LOG_LEVEL` */
  logger?: Logger;
  /** @default `new Metrics({ namespace, serviceName })` (EMF on stdout; off with `POWERTOOLS_METRICS_DISABLED`) */
  metrics?: Metrics;
  /** @default `new Tracer({ serviceName })`, which is off outside Lambda */
  tracer?: Tracer;
}

/**
 * The service behind both edges: a {@link LockManager} wired to Powertools logs, metrics and
 * traces. The HTTP and direct-invocation handlers only parse, call {@link LockUseCase.execute}
 * and map.
 *
 * @example
 * const service = new LockUseCase(readConfig(process.env));
 * const grant = await service.execute({ action: 'acquire', lockId: 'reports', options: { owner: 'me' } });
 */
export class LockUseCase {
  readonly locks: LockManager;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracer: Tracer;
  private readonly ownsClient: boolean;

  constructor(
    readonly config: ServiceConfig,
    parts: LockServiceParts = {},
  ) {
    const { serviceName, metricsNamespace: namespace } = config;
    this.logger = parts.logger ?? new Logger({ serviceName });
    this.tracer = parts.tracer ?? new Tracer({ serviceName });
    // Metrics' own warnings go to the structured log rather than bare stdout.
    this.metrics = parts.metrics ?? new Metrics({ namespace, serviceName, logger: this.logger });
    this.ownsClient = parts.client === undefined;
    this.locks = new LockManager({
      tableName: config.tableName,
      client: parts.client ?? this.createClient(),
      defaultLeaseMs: config.defaultLeaseMs,
      retentionMs: config.retentionMs,
      onEvent: (event) => this.record(event),
    });
  }

  private createClient(): DynamoDBDocumentClient {
    const client = createDynamoClient({ endpoint: this.config.dynamodbEndpoint });
    this.tracer.captureAWSv3Client(client);
    return createDocumentClient(client);
  }

  /**
   * Runs one checked request with the lock id and owner as log keys and its latency as a metric.
   *
   * @example
   * const state = await service.execute({ action: 'get', lockId: 'reports', options: {} });
   */
  async execute(request: LockRequest): Promise<LockResponse> {
    const { action, lockId } = request;
    const owner = 'owner' in request.options ? request.options.owner : undefined;
    this.logger.appendKeys({ lockId, ...(owner === undefined ? {} : { owner }), action });
    this.tracer.putAnnotation('action', action);
    this.metrics.addMetadata('action', action);
    const started = performance.now();
    try {
      return await this.dispatch(request);
    } catch (err) {
      if (err instanceof LockHeld)
        this.metrics.addMetric(METRIC_NAMES.refusals, MetricUnit.Count, 1);
      throw err;
    } finally {
      const ms = Math.round((performance.now() - started) * 1000) / 1000;
      this.metrics.addMetric(METRIC_NAMES.latency, MetricUnit.Milliseconds, ms);
      if (request.action === 'acquire' && (request.options.waitMs ?? 0) > 0) {
        this.metrics.addMetric(METRIC_NAMES.waitTime, MetricUnit.Milliseconds, ms);
      }
    }
  }

  /**
   * Logs a request refused as the caller's own (bad input, a held or lost lock) and counts bad
   * input, for the dashboard's refusals (held vs invalid).
   *
   * @example catch (err) { if (isClientError(err)) service.recordRefused(err); }
   */
  recordRefused(err: Error): void {
    if (err instanceof ValidationError) {
      this.metrics.addMetric(METRIC_NAMES.invalidRequests, MetricUnit.Count, 1);
    }
    this.logger.info('request refused', { error: err.name, reason: err.message });
  }

  /**
   * One page of the table's locks (see `LockManager.list`), its latency a metric like any
   * operation's.
   *
   * @example const { locks, cursor } = await service.list({ prefix: 'orders/' });
   */
  async list(options: ListOptions): Promise<ListResult> {
    this.logger.appendKeys({ action: LIST.action });
    this.tracer.putAnnotation('action', LIST.action);
    this.metrics.addMetadata('action', LIST.action);
    const started = performance.now();
    try {
      return await this.locks.list(options);
    } finally {
      this.metrics.addMetric(
        METRIC_NAMES.latency,
        MetricUnit.Milliseconds,
        Math.round((performance.now() - started) * 1000) / 1000,
      );
    }
  }

  private dispatch({ action, lockId, options }: LockRequest): Promise<LockResponse> {
    // Each operation of the contract is the manager's method of the same name.
    const operation = this.locks[action] as (id: string, input: object) => Promise<LockResponse>;
    return operation.call(this.locks, lockId, options);
  }

  /**
   * Releases every lock and permit `owner` registered (see `LockManager.releaseAllHeldBy`),
   * counting what it freed.
   *
   * @example await service.releaseAllHeldBy(executionArn);
   */
  async releaseAllHeldBy(owner: string): Promise<{ released: string[] }> {
    const result = await this.locks.releaseAllHeldBy(owner);
    this.metrics.addMetric(METRIC_NAMES.ownerReleases, MetricUnit.Count, result.released.length);
    return result;
  }

  /**
   * Logs an unexpected fault with its real cause and counts it; the edge answers generically.
   *
   * @example
   * catch (err) { service.recordFault(err); return internalError(); }
   */
  recordFault(err: unknown): void {
    this.metrics.addMetric(METRIC_NAMES.internalErrors, MetricUnit.Count, 1);
    // A DynamoDB fault arrives wrapped by the core; the log wants what DynamoDB said.
    const fault =
      err instanceof LockServiceUnavailable && err.cause instanceof Error ? err.cause : err;
    this.logger.error('unexpected fault', fault instanceof Error ? fault : String(fault));
  }

  /** Stops the DynamoDB client this service created (the local server calls it on close). */
  close(): void {
    if (this.ownsClient) this.locks.client.destroy();
  }

  // The manager's hook must not throw: an observability failure never fails a lock operation.
  private record(event: LockEvent): void {
    try {
      const count = (name: string) => this.metrics.addMetric(name, MetricUnit.Count, 1);
      switch (event.type) {
        case 'granted':
          count(METRIC_NAMES.grants);
          if (event.takeover) count(METRIC_NAMES.takeovers);
          this.logger.info('lock granted', { token: event.token, takeover: event.takeover });
          break;
        case 'regranted':
          count(METRIC_NAMES.regrants);
          this.logger.info('lock regranted', { token: event.token });
          break;
        case 'refused':
          // Counted once per request in execute(): a waiting acquire may be refused many times.
          this.logger.debug('lock refused', { holder: event.holder });
          break;
        case 'renewed':
          count(METRIC_NAMES.renewals);
          this.logger.info('lock renewed', { token: event.token });
          break;
        case 'lost':
          count(METRIC_NAMES.lostLeases);
          this.logger.info('lock lost', { token: event.token });
          break;
        case 'released':
          count(event.released ? METRIC_NAMES.releases : METRIC_NAMES.staleReleases);
          this.logger.info('lock released', { token: event.token, released: event.released });
          break;
        case 'forceReleased':
          if (event.released) count(METRIC_NAMES.forceReleases);
          this.logger.warn('lock force released', { released: event.released });
          break;
      }
    } catch {
      // Deliberately ignored, see above.
    }
  }
}
