// The package ships no types; this declares only what the bench calls.
declare module 'dynamodb-lock-client' {
  import type { EventEmitter } from 'node:events';

  export interface FailOpenConfig {
    dynamodb: object;
    lockTable: string;
    partitionKey: string;
    leaseDurationMs: number;
    owner?: string;
    heartbeatPeriodMs?: number;
    trustLocalTime?: boolean;
    retryCount?: number;
  }

  export interface Lock extends EventEmitter {
    fencingToken?: number;
    release(callback: (error?: Error) => void): void;
  }

  export class FailOpen {
    constructor(config: FailOpenConfig);
    acquireLock(id: string, callback: (error: Error | undefined, lock?: Lock) => void): void;
  }

  const client: { FailOpen: typeof FailOpen };
  export default client;
}
