/**
 * A small seeded generator (mulberry32): the same seed replays the same choices of work time,
 * fault timing and victim, so a failing seed can be run again.
 *
 * @example
 * const random = seededRandom(42);
 * const workMs = 5 + Math.floor(random() * 25);
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** @example const ms = between(random, 5, 30); */
export function between(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}
