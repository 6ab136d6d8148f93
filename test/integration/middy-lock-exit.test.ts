import { LockManager } from '../../lib/index.js';
import { documentClient, endpoint, freshLockTable } from '../support/dynamodb.js';
import { runWithLocalAws } from '../support/run-node.js';

const SCRIPT = new URL('../support/middy-lock-exit.mjs', import.meta.url).pathname;

let tableName: string;
beforeAll(async () => {
  tableName = await freshLockTable();
});

const run = (args: string[]) => runWithLocalAws(args, endpoint());

describe('nothing outlives a locked invocation', () => {
  it.each([
    ['returns at once', 'returns', { result: expect.stringMatching(/^done with token \d+$/) }],
    ['throws', 'throws', { error: 'handler failed' }],
    ['is answered early by a later middleware', 'early', { result: 'answered early' }],
  ])(
    'when the handler %s, the process exits within 1 s of the invocation settling',
    async (_label, ending, outcome) => {
      const lockId = `exit-${ending}`;
      const { code, stdout, exitedAt } = await run([SCRIPT, tableName, lockId, ending]);
      expect(code).toBe(0);
      const { settledAt, ...settled } = JSON.parse(stdout) as { settledAt: number };
      expect(settled).toEqual(outcome);
      // The lease is 10 s and the deadline 60 s: a leftover renew, expiry or deadline timer
      // would hold the process that long.
      expect(exitedAt - settledAt).toBeLessThan(1_000);
      const doc = documentClient();
      const state = await new LockManager({ tableName, client: doc }).get(lockId);
      doc.destroy();
      expect(state.token).toBeDefined();
      expect(state.held).toBe(false);
    },
  );
});
