import { isListPath, LIST, listPath, parseListRequest } from '../../lib/contract/list.js';
import { ValidationError } from '../../lib/core/errors.js';

describe('the listing in the contract', () => {
  it('spells its query with every character outside RFC 3986 unreserved escaped', () => {
    expect(listPath()).toBe(LIST.path);
    expect(listPath({ prefix: "a b/*(ü)'!", limit: 5, cursor: 'c-_' })).toBe(
      '/locks?prefix=a%20b%2F%2A%28%C3%BC%29%27%21&limit=5&cursor=c-_',
    );
  });

  it('reads it back from a query: limit as digits, the rest as given', () => {
    const query = new URL(`http://x${listPath({ prefix: 'a b', limit: 7 })}`).searchParams;
    expect(parseListRequest(Object.fromEntries(query), { text: true })).toEqual({
      prefix: 'a b',
      limit: 7,
    });
  });

  it.each([
    [{ limit: '7' }, false, 'limit'], // an event's limit is a number
    [{ limit: '7.5' }, true, 'limit'],
    [{ limit: '-1' }, true, 'limit'],
    [{ limit: '0' }, true, 'limit'],
    [{ limit: '' }, true, 'limit'],
    [{ prefix: '' }, true, 'prefix'],
    [{ cursor: '!!' }, true, 'cursor'],
    [JSON.parse('{"__proto__": "x"}') as Record<string, unknown>, true, '__proto__'],
    [{ lockId: 'a' }, false, 'lockId'],
  ])('refuses %j naming the field', (input, text, field) => {
    expect(() => parseListRequest(input, { text })).toThrow(ValidationError);
    expect(() => parseListRequest(input, { text })).toThrow(expect.objectContaining({ field }));
  });

  it('knows its path, a trailing slash tolerated', () => {
    expect(isListPath('/locks')).toBe(true);
    expect(isListPath('/locks/')).toBe(true);
    expect(isListPath('/locks/a')).toBe(false);
  });
});
