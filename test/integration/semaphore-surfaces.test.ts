import { LockHeld, ValidationError } from '../../lib/index.js';
import { freshLockTable } from '../support/dynamodb.js';
import { startLockctl } from '../support/lockctl.js';
import { startTransports, TRANSPORT_NAMES, type Transports } from '../support/transports.js';

let tableName: string;
let transports: Transports;

beforeAll(async () => {
  tableName = await freshLockTable('sem-surfaces');
  transports = await startTransports(tableName);
});
afterAll(() => transports.close());

describe.each(TRANSPORT_NAMES.map((name) => [name, () => transports.client(name)] as const))(
  'a semaphore over %s',
  (name, makeClient) => {
    const id = (suffix: string) => `${name}/sem/${suffix}`;

    it('grants N permits, refuses the next naming the first to end, shows the holders', async () => {
      const client = makeClient();
      const a = await client.acquire(id('cap'), { owner: 'a', permits: 2, leaseMs: 10_000 });
      const b = await client.acquire(id('cap'), { owner: 'b', permits: 2, leaseMs: 20_000 });
      expect(a).toMatchObject({ owner: 'a', permits: 2 });
      expect(b.token).toBeGreaterThan(a.token);
      const refusal = await client
        .acquire(id('cap'), { owner: 'c', permits: 2 })
        .catch((e: unknown) => e);
      expect(refusal).toBeInstanceOf(LockHeld);
      expect(refusal).toMatchObject({ owner: 'a', expiresAt: a.expiresAt });
      const state = await client.get(id('cap'));
      expect(state).toMatchObject({ held: true, permits: 2, available: 0 });
      expect(state.holders?.map((h) => [h.owner, h.token])).toEqual([
        ['a', a.token],
        ['b', b.token],
      ]);
      expect(await client.renew(id('cap'), { ...a, leaseMs: 30_000 })).toMatchObject({
        token: a.token,
        leaseMs: 30_000,
      });
      expect(await client.release(id('cap'), a)).toEqual({ released: true });
      expect(await client.release(id('cap'), a)).toEqual({ released: false });
      expect((await client.get(id('cap'))).available).toBe(1);
    });

    it('refuses a bad number of permits naming the field', async () => {
      const client = makeClient();
      for (const permits of [0, 1_001, 2.5]) {
        const refusal = client.acquire(id('bad'), { owner: 'a', permits });
        await expect(refusal).rejects.toBeInstanceOf(ValidationError);
        await expect(refusal).rejects.toMatchObject({ field: 'permits' });
      }
    });

    it('lets withLock hold one permit each, at most N at once', async () => {
      const client = makeClient();
      const intervals: [number, number][] = [];
      await Promise.all(
        [0, 1, 2].map(() =>
          client.withLock(
            id('with'),
            async ({ grant }) => {
              expect(grant.permits).toBe(2);
              const start = Date.now();
              await new Promise((resolve) => setTimeout(resolve, 300));
              intervals.push([start, Date.now()]);
            },
            { permits: 2, waitMs: 10_000, leaseMs: 5_000 },
          ),
        ),
      );
      expect(intervals).toHaveLength(3);
      const [first, second, third] = intervals.sort((x, y) => x[0] - y[0]);
      // Two ran together; the third started only once one of them had ended.
      expect(second[0]).toBeLessThan(first[1]);
      expect(third[0]).toBeGreaterThanOrEqual(Math.min(first[1], second[1]));
      expect((await client.get(id('with'))).available).toBe(2);
    });
  },
);

describe('lockctl --permits', () => {
  const run = (args: string[]) => startLockctl(args, tableName).done;

  it('takes permits until the semaphore is full, then exits 75; get lists the holders', async () => {
    const first = await run(['acquire', 'cli-sem', '--permits', '2', '--owner', 'p1', '--json']);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ owner: 'p1', permits: 2 });
    expect((await run(['acquire', 'cli-sem', '--permits', '2', '--owner', 'p2'])).code).toBe(0);
    const full = await run(['acquire', 'cli-sem', '--permits', '2']);
    expect(full.code).toBe(75);
    expect(full.stderr).toMatch(/is held by p1/);
    const got = await run(['get', 'cli-sem']);
    expect(got.stdout).toContain('"cli-sem" is a semaphore of 2 permits, 0 free');
    expect(got.stdout).toMatch(/ p1, token \d+/);
    const { token } = JSON.parse(first.stdout) as { token: number };
    const released = await run([
      'release',
      'cli-sem',
      '--owner',
      'p1',
      '--token',
      String(token),
      '--permits',
      '2',
    ]);
    expect(released.stdout).toContain('released "cli-sem"');
  });

  it('runs a command under one permit', async () => {
    const result = await run([
      'run',
      'cli-sem-run',
      '--permits',
      '3',
      '--',
      process.execPath,
      '-e',
      'process.exit(process.env.LOCK_TOKEN ? 0 : 9)',
    ]);
    expect(result.code).toBe(0);
  });
});
