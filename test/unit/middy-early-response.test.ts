// The early-response guard against real middy, with an in-memory "release" in place of the lock.
import middy from '@middy/core';
import { settleOnEarlyResponse } from '../../lib/middy/early-response.js';
import { lambdaContext } from '../../local/lambda-context.js';

const context = () => lambdaContext('guarded-fn');

/** A middleware that guards the invocation, recording when its settle function starts and ends. */
function guarded(log: string[]) {
  const unguards = new WeakMap<object, () => void>();
  const settle = async () => {
    log.push('settle started');
    await new Promise((resolve) => setTimeout(resolve, 50));
    log.push('settle done');
  };
  const end = async (request: object) => {
    unguards.get(request)?.();
    log.push('after or onError');
  };
  return {
    before: async (request: object) => {
      unguards.set(request, settleOnEarlyResponse(request, settle));
    },
    after: end,
    onError: end,
  };
}

describe('settleOnEarlyResponse under middy', () => {
  it('makes middy wait for settle before answering an early response of a later before', async () => {
    const log: string[] = [];
    const handler = middy(async () => 'handler')
      .use(guarded(log))
      .use({ before: async () => 'early' });
    const response = await handler({}, context());
    log.push('answered');
    expect(response).toBe('early');
    expect(log).toEqual(['settle started', 'settle done', 'answered']);
  });

  it('does the same for an early response of a later after', async () => {
    const log: string[] = [];
    const handler = middy(async () => 'handler')
      .use(guarded(log))
      .use({ after: async () => 'replaced' });
    await expect(handler({}, context())).resolves.toBe('replaced');
    expect(log).toEqual(['settle started', 'settle done']);
  });

  it('stays out of the way of an invocation that ends normally', async () => {
    const log: string[] = [];
    const handler = middy(async () => 'handler')
      .use(guarded(log))
      .use({
        after: async (request) => {
          request.response = `${request.response}, then changed`;
        },
      });
    await expect(handler({}, context())).resolves.toBe('handler, then changed');
    expect(log).toEqual(['after or onError']);
  });

  it('leaves a plain response property once settled', async () => {
    let seen: PropertyDescriptor | undefined;
    const handler = middy(async () => 'handler', {
      requestEnd: (request) => {
        seen = Object.getOwnPropertyDescriptor(request, 'response');
      },
    })
      .use(guarded([]))
      .use({ before: async () => 'early' });
    await handler({}, context());
    expect(seen).toMatchObject({ value: 'early', writable: true });
  });

  it("keeps middy's rethrow when an onError answers early with undefined", async () => {
    const log: string[] = [];
    const failure = new Error('handler failed');
    const handler = middy(async () => {
      throw failure;
    })
      .use(guarded(log))
      .use({
        onError: async (request) => {
          request.earlyResponse = undefined;
        },
      });
    await expect(handler({}, context())).rejects.toBe(failure);
    expect(log[0]).toBe('settle started');
  });
});
