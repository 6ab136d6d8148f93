// middy ends an invocation early when a middleware returns a value (or sets
// `request.earlyResponse`), and then skips the after and onError hooks of every middleware used
// before it. middy's docs leave the cleanup to the middleware that returns early; a lock cannot
// rely on every middleware doing so, so these helpers cover both directions.

/** The parts of middy's request (6.x and 7.x) these helpers touch. */
export interface EarlyResponseRequest {
  response?: unknown;
  earlyResponse?: unknown;
  error?: unknown;
  internal?: Record<string, unknown>;
}

/**
 * Runs `settle` if the invocation ends early after this point, and makes middy wait for it.
 * middy answers an early response by assigning it to `request.response` and then returning
 * `request.response` from an async function; so `response` becomes an accessor that notices
 * that assignment and, until `settle` is done, reads as a promise of the same value. Returns a
 * function that puts back a plain `response` property, for when the invocation ended normally.
 *
 * @example
 * const unguard = settleOnEarlyResponse(request, () => invocation.end());
 * // later, in after/onError: unguard(); await invocation.end();
 */
export function settleOnEarlyResponse(
  request: EarlyResponseRequest,
  settle: () => Promise<void>,
): () => void {
  let current = request.response;
  let triggered = false;
  let settled: Promise<unknown> | undefined;
  const restore = () =>
    Object.defineProperty(request, 'response', {
      value: current,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  Object.defineProperty(request, 'response', {
    enumerable: true,
    configurable: true,
    get: () => settled ?? current,
    set: (value: unknown) => {
      current = value;
      if (triggered || !('earlyResponse' in request)) return;
      triggered = true;
      const settling = settle();
      if (value === undefined && request.error != null) {
        // An undefined early response in onError makes middy rethrow request.error, which a
        // promise here would swallow: this one settle runs without middy waiting for it.
        restore();
        return;
      }
      settled = settling.then(() => {
        restore();
        return current;
      });
    },
  });
  return () => {
    if (!triggered) restore();
  };
}

/**
 * Powertools for AWS Lambda's middlewares (logger, metrics, tracer) keep their after-work in
 * `request.internal` under keys with this prefix, for a middleware that returns early to run
 * (what its `cleanupMiddlewares` does).
 */
const POWERTOOLS_CLEANUP_PREFIX = 'powertools-for-aws.';

/**
 * Runs the cleanup Powertools middlewares left in `request.internal`, before this middleware
 * returns early, so that, for example, metrics of a skipped invocation are still flushed.
 *
 * @example
 * await runPowertoolsCleanup(request);
 * request.earlyResponse = undefined;
 */
export async function runPowertoolsCleanup(request: EarlyResponseRequest): Promise<void> {
  for (const [key, cleanup] of Object.entries(request.internal ?? {})) {
    if (key.startsWith(POWERTOOLS_CLEANUP_PREFIX) && typeof cleanup === 'function') {
      await (cleanup as (request: EarlyResponseRequest) => unknown)(request);
    }
  }
}
