import { endpoint, freshLockTable } from '../support/dynamodb.js';
import { runWithLocalAws } from '../support/run-node.js';

const SCRIPT = new URL('../support/with-lock-exit.mjs', import.meta.url).pathname;
const LOCKCTL = new URL('../../dist/cli/main.js', import.meta.url).pathname;

let tableName: string;
beforeAll(async () => {
  tableName = await freshLockTable();
});

const run = (args: string[]) => runWithLocalAws(args, endpoint());

describe('nothing outlives withLock', () => {
  it.each([
    ['a generated owner', ''],
    ['a caller-chosen owner (first renew in flight as fn returns)', 'script-owner'],
  ])('with %s, the process exits within 1 s of withLock resolving', async (_label, owner) => {
    const { code, stdout, exitedAt } = await run([SCRIPT, tableName, `exit-${owner}`, owner]);
    expect(code).toBe(0);
    const { result, resolvedAt } = JSON.parse(stdout) as { result: string; resolvedAt: number };
    expect(result).toBe('done');
    // The lease is 10 s: a leftover renew or expiry timer would hold the process that long.
    expect(exitedAt - resolvedAt).toBeLessThan(1_000);
  });

  it('lockctl run -- true exits promptly with a 10 s lease', async () => {
    const { code, startedAt, exitedAt } = await run([
      LOCKCTL,
      'run',
      'exit-lockctl',
      '--table',
      tableName,
      '--dynamodb-endpoint',
      endpoint(),
      '--lease',
      '10s',
      '--',
      'true',
    ]);
    expect(code).toBe(0);
    // Start-up, acquire, release and exit: seconds at most, never the 10 s lease.
    expect(exitedAt - startedAt).toBeLessThan(5_000);
  });
});
