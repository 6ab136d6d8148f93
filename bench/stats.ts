/** Small statistics over latency samples (ms) and per-worker counts. */

/**
 * The q-quantile (0..1) of the samples by the nearest-rank method; NaN when there are none.
 *
 * @example percentile([1, 2, 3, 4], 0.5) // 2
 */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
}

/** @example median([3, 1, 2]) // 2 */
export const median = (samples: readonly number[]): number => percentile(samples, 0.5);

/** p50 and p99 of a set of latencies, in ms, and how many there were. */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
}

/** @example summarize([1.2, 1.4, 9]) // { count: 3, p50: 1.4, p99: 9 } */
export function summarize(samples: readonly number[]): LatencySummary {
  return { count: samples.length, p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
}

/** How evenly a total was spread over workers. */
export interface Spread {
  min: number;
  max: number;
  /** Coefficient of variation: standard deviation over mean (0 = perfectly even). */
  cv: number;
}

/** @example spread([10, 10, 10]) // { min: 10, max: 10, cv: 0 } */
export function spread(counts: readonly number[]): Spread {
  if (counts.length === 0) return { min: Number.NaN, max: Number.NaN, cv: Number.NaN };
  const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
  const variance = counts.reduce((a, b) => a + (b - mean) ** 2, 0) / counts.length;
  return {
    min: Math.min(...counts),
    max: Math.max(...counts),
    cv: mean === 0 ? Number.NaN : Math.sqrt(variance) / mean,
  };
}
