import { LeaseKeeper, type LeaseOperations } from '../../lib/client/lease-keeper.js';
import { LockLost, LockServiceUnavailable, type Grant } from '../../lib/core/index.js';

const grant: Grant = { lockId: 'a', owner: 'me', token: 7, expiresAt: 0, leaseMs: 300 };

/** An in-memory service whose renews answer as each test scripts them. */
function service(answer: () => Promise<Grant>) {
  const calls = { renew: 0, release: [] as number[] };
  const locks: LeaseOperations = {
    renew: async () => {
      calls.renew++;
      return answer();
    },
    release: async (_lockId, { token }) => {
      calls.release.push(token);
      return { released: true };
    },
  };
  return { locks, calls };
}

const aborted = (signal: AbortSignal) =>
  new Promise<unknown>((resolve) =>
    signal.addEventListener('abort', () => resolve(signal.reason), { once: true }),
  );

describe('LeaseKeeper', () => {
  it('waits for a renew in flight before stopping, and arms nothing after it', async () => {
    let answer: (g: Grant) => void = () => {};
    let sent: () => void = () => {};
    const onTheWire = new Promise<void>((resolve) => (sent = resolve));
    const { locks, calls } = service(() => {
      sent();
      return new Promise<Grant>((resolve) => (answer = resolve));
    });
    const keeper = new LeaseKeeper(
      locks,
      { grant, sentAt: performance.now() },
      { renewAtOnce: true, leaseMs: 300 },
    );
    await onTheWire;
    let stopped = false;
    const stopping = keeper.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    answer(grant);
    await stopping;
    // Past the renewed lease: an expiry armed after the stop would have fired by now.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(keeper.signal.aborted).toBe(false);
    expect(calls.renew).toBe(1);
  });

  it('aborts the signal with the LockLost of a refused renew, and renews no more', async () => {
    const refusal = new LockLost('a');
    const { locks, calls } = service(() => Promise.reject(refusal));
    const keeper = new LeaseKeeper(locks, { grant, sentAt: performance.now() });
    expect(await aborted(keeper.signal)).toBe(refusal);
    await keeper.stop();
    expect(calls.renew).toBe(1);
  });

  it('aborts when the lease runs out while renews keep failing', async () => {
    const { locks } = service(() => Promise.reject(new LockServiceUnavailable('down')));
    const keeper = new LeaseKeeper(locks, { grant, sentAt: performance.now() });
    const reason = await aborted(keeper.signal);
    expect(reason).toBeInstanceOf(LockLost);
    expect((reason as LockLost).message).toMatch(/ended before it could be renewed/);
    await keeper.stop();
  });

  it('aborts at the deadline with its reason while renews succeed, then renews no more', async () => {
    const { locks, calls } = service(async () => grant);
    const reason = new LockLost('a', 'out of time');
    const keeper = new LeaseKeeper(
      locks,
      { grant, sentAt: performance.now() },
      { deadline: { at: performance.now() + 250, reason } },
    );
    expect(await aborted(keeper.signal)).toBe(reason);
    const renewsAtDeadline = calls.renew;
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(calls.renew).toBe(renewsAtDeadline);
    await keeper.stop();
  });

  it('releases the grant as last renewed, after stopping', async () => {
    const { locks, calls } = service(async () => grant);
    const keeper = new LeaseKeeper(locks, { grant, sentAt: performance.now() });
    expect(await keeper.release()).toEqual({ released: true });
    expect(calls.release).toEqual([7]);
    expect(keeper.signal.aborted).toBe(false);
  });
});
