import { expect } from '@jest/globals';
import { ValidationError } from '../../lib/core/errors.js';

/** Runs `fn`, which must throw a ValidationError, and returns the field it names. */
export function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).name).toBe('ValidationError');
    return (err as ValidationError).field;
  }
  throw new Error('expected a ValidationError');
}
