// Where lockctl sends its requests, checked before anything is loaded or sent, so that a
// mistyped target is a usage error naming the flag instead of a fault from deep in the SDK.
import type { LockServiceUnavailable } from '../core/errors.js';
import { UsageError } from './usage-error.js';

type Flags = Record<string, string | boolean | undefined>;

/** The HTTP API lockctl calls when no target is given: this repository's `npm start`. */
export const DEFAULT_ENDPOINT = 'http://localhost:3000';

const URL_FLAGS = ['endpoint', 'dynamodb-endpoint'] as const;

/**
 * Refuses target flags that cannot mean what was typed: `--dynamodb-endpoint` without
 * `--table` (it would be ignored and the HTTP API called instead) and an endpoint that is not
 * an http(s) URL (the SDK and fetch would fail with a message that names neither).
 */
export function checkTargetFlags(flags: Flags): void {
  if (flags['dynamodb-endpoint'] !== undefined && flags.table === undefined) {
    throw new UsageError(
      '--dynamodb-endpoint needs --table NAME: it says where DynamoDB is, --table says to talk to it directly',
    );
  }
  for (const flag of URL_FLAGS) {
    const text = flags[flag];
    if (typeof text !== 'string') continue;
    let scheme: string | undefined;
    try {
      scheme = new URL(text).protocol;
    } catch {
      scheme = undefined;
    }
    if (scheme !== 'http:' && scheme !== 'https:') {
      throw new UsageError(
        `--${flag} must be a URL starting with http:// or https://, e.g. http://localhost:8000, got "${text}"`,
      );
    }
  }
}

/** What lockctl tried to reach, for a fault's message. */
export function describeTarget(flags: Flags): string {
  if (typeof flags.table === 'string') {
    const where = flags['dynamodb-endpoint'] ?? 'the AWS default endpoint';
    return `DynamoDB at ${String(where)}, table "${flags.table}"`;
  }
  if (typeof flags.function === 'string') return `the lock function "${flags.function}"`;
  return `the lock API at ${typeof flags.endpoint === 'string' ? flags.endpoint : DEFAULT_ENDPOINT}`;
}

/** A fault's message with the target lockctl tried, unless the message names it already. */
export function faultMessage(err: LockServiceUnavailable, flags: Flags): string {
  const target = describeTarget(flags);
  const url = flags.table === undefined ? flags.endpoint : flags['dynamodb-endpoint'];
  if (typeof url === 'string' && err.message.includes(url)) return err.message;
  return `${err.message}; tried ${target}`;
}
