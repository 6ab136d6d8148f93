import { ValidationError } from '../core/errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * Reads a duration like `500ms`, `30s`, `5m`, `1h` or `1.5s`; a bare number is milliseconds.
 *
 * @example parseDuration('--lease', '30s') === 30_000
 */
export function parseDuration(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) {
    throw new ValidationError(
      flag,
      `${flag} must be a duration like 500ms, 30s, 5m or 1h, got "${text}"`,
    );
  }
  return Math.round(Number(match[1]) * UNITS[match[2] ?? 'ms']);
}

/** @example formatDuration(90_000) === '1m30s' */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${ms}ms`;
  const s = Math.round(ms / 1_000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
}
