import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LockManager, type LockState, ValidationError } from '../../lib/core/index.js';
import { documentClient, freshLockTable } from '../support/dynamodb.js';

let tableName: string;
let doc: DynamoDBDocumentClient;
let locks: LockManager;
const TOTAL = 2_500;
// Two prefixes, one a prefix of the other's ids too ('a/' vs 'a/b/'), and ids beyond the BMP.
const idOf = (i: number) => (i % 5 === 0 ? `a/b/${i}-🔒` : i % 2 === 0 ? `a/${i}` : `z/${i}`);

/** Every page of a listing, asserting the page size is kept. */
async function listAll(options: { prefix?: string; limit: number }) {
  const seen: LockState[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await locks.list({ ...options, ...(cursor === undefined ? {} : { cursor }) });
    expect(page.locks.length).toBeLessThanOrEqual(options.limit);
    seen.push(...page.locks);
    cursor = page.cursor;
    pages++;
  } while (cursor !== undefined);
  return { seen, pages };
}

beforeAll(async () => {
  tableName = await freshLockTable();
  doc = documentClient();
  locks = new LockManager({ tableName, client: doc });
  // Released (free) ones, held ones, and owners tracked in the registry (reserved items).
  const ids = Array.from({ length: TOTAL }, (_, i) => i);
  for (let at = 0; at < TOTAL; at += 50) {
    await Promise.all(
      ids.slice(at, at + 50).map(async (i) => {
        const grant = await locks.acquire(idOf(i), {
          owner: `owner-${i % 7}`,
          trackOwner: i % 100 === 0,
        });
        if (i % 3 === 0) await locks.release(idOf(i), grant);
      }),
    );
  }
}, 120_000);
afterAll(() => doc.destroy());

describe('list', () => {
  it('pages over 2,500 locks with a small page size, each exactly once, no registry item', async () => {
    const { seen, pages } = await listAll({ limit: 97 });
    const ids = seen.map((s) => s.lockId);
    expect(ids.length).toBe(TOTAL);
    expect(new Set(ids).size).toBe(TOTAL);
    expect(ids.filter((id) => id.startsWith('\u0000'))).toEqual([]);
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(TOTAL / 97));
    expect(seen.filter((s) => s.held).length).toBe(TOTAL - Math.ceil(TOTAL / 3));
  }, 60_000);

  it('with a prefix returns exactly the locks under it, each once', async () => {
    for (const prefix of ['a/', 'a/b/', 'z/']) {
      const { seen } = await listAll({ prefix, limit: 40 });
      const expected = Array.from({ length: TOTAL }, (_, i) => idOf(i)).filter((id) =>
        id.startsWith(prefix),
      );
      expect(seen.map((s) => s.lockId).sort()).toEqual(expected.sort());
    }
  }, 60_000);

  it('shows each lock as get does', async () => {
    // Few items match: pages may come back empty with a cursor until the Scan reaches them.
    const { seen } = await listAll({ prefix: 'a/b/10-', limit: 10 });
    expect(seen.map((s) => s.lockId)).toEqual(['a/b/10-🔒']);
    const state = seen[0];
    const { held, owner, token, transitions } = await locks.get('a/b/10-🔒');
    expect(state).toMatchObject({ held, owner, token, transitions });
  });

  it('refuses bad input naming the field', async () => {
    const bad: [object, string][] = [
      [{ limit: 0 }, 'limit'],
      [{ limit: 1_001 }, 'limit'],
      [{ limit: '5' }, 'limit'],
      [{ prefix: '' }, 'prefix'],
      [{ prefix: '\u0000owner:' }, 'prefix'],
      [{ prefix: 5 }, 'prefix'],
      [{ cursor: 'not a cursor' }, 'cursor'],
      [{ cursor: Buffer.from('{"lockId":"x"}').toString('base64url') }, 'cursor'],
      [{ cursor: 7 }, 'cursor'],
    ];
    for (const [options, field] of bad) {
      await expect(locks.list(options as never)).rejects.toMatchObject({
        name: ValidationError.name,
        field,
      });
    }
  });
});
