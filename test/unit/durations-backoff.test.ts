import { formatDuration, parseDuration } from '../../lib/cli/durations.js';
import { BACKOFF_DEFAULTS, backoffDelay } from '../../lib/core/backoff.js';
import { ValidationError } from '../../lib/core/errors.js';
import { WAITING } from '../../lib/core/waiting.js';

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['250', 250],
    [' 2s ', 2_000],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration('--lease', text)).toBe(ms);
  });

  it.each([['soon'], [''], ['-1s'], ['1d'], ['1 s'], ['s']])(
    'refuses %j naming the flag',
    (text) => {
      expect(() => parseDuration('--wait', text)).toThrow(ValidationError);
      expect(() => parseDuration('--wait', text)).toThrow(/--wait must be a duration/);
    },
  );

  it.each([
    [999, '999ms'],
    [1_000, '1s'],
    [59_400, '59s'],
    [90_000, '1m30s'],
    [3_600_000, '60m'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('backoff', () => {
  const at = (random: number) => ({ ...BACKOFF_DEFAULTS, random: () => random });

  it('grows the ceiling exponentially from the base up to the maximum', () => {
    const ceilings = [0, 1, 2, 3, 4, 5, 30].map((attempt) =>
      backoffDelay(attempt, at(0.999_999), 60_000, 60_000),
    );
    expect(ceilings).toEqual([50, 100, 200, 400, 800, 1_000, 1_000]);
  });

  it('jitters fully below the ceiling, never under the waiting floor', () => {
    expect(backoffDelay(3, at(0), 60_000, 60_000)).toBe(WAITING.floorMs);
    expect(backoffDelay(3, at(0.5), 60_000, 60_000)).toBe(200);
  });

  it("never sleeps past the holder's lease end or the caller's deadline", () => {
    expect(backoffDelay(10, at(0.999), 30, 60_000)).toBe(30);
    expect(backoffDelay(10, at(0.999), 60_000, 7)).toBe(7);
    // A refusal that says "now" (retryAfterMs 0) still sleeps the floor: no tight loop.
    expect(backoffDelay(10, at(0.999), 0, 60_000)).toBe(WAITING.floorMs);
    // Only a nearer deadline goes under the floor.
    expect(backoffDelay(10, at(0.999), 0, 2)).toBe(2);
  });
});
