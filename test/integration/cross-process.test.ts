import { LockManager } from '../../lib/core/index.js';
import { documentClient, endpoint, freshLockTable } from '../support/dynamodb.js';
import { runTs } from '../support/run-node.js';

const worker = new URL('../support/race-worker.ts', import.meta.url).pathname;

it('lets exactly one acquirer win a race run from 4 OS processes', async () => {
  const tableName = await freshLockTable();
  // Far enough ahead for every process to have loaded before the start instant.
  const startAt = Date.now() + 4_000;
  const runs = await Promise.all(
    [0, 1, 2, 3].map((p) =>
      runTs(worker, [endpoint(), tableName, 'contested', String(startAt), '10', `proc${p}`]),
    ),
  );
  const outcomes = runs.map((run) => {
    expect(run.code).toBe(0);
    return JSON.parse(run.stdout) as {
      grants: { owner: string; token: number }[];
      refused: number;
      unexpected: string[];
    };
  });
  const grants = outcomes.flatMap((o) => o.grants);
  expect(outcomes.flatMap((o) => o.unexpected)).toEqual([]);
  expect(grants).toHaveLength(1);
  expect(outcomes.reduce((sum, o) => sum + o.refused, 0)).toBe(39);

  const doc = documentClient();
  const state = await new LockManager({ tableName, client: doc }).get('contested');
  expect(state).toMatchObject({ held: true, owner: grants[0].owner, token: grants[0].token });
  doc.destroy();
}, 60_000);
