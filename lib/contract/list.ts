// The listing of locks on every edge, apart from OPERATIONS because it names no lock: the library
// (`LockManager.list`), `GET /locks?prefix=...&limit=...&cursor=...` on both API kinds, the
// direct invocation's `{ "action": "list", ... }`, and `lockctl ls`.
import { ValidationError } from '../core/errors.js';
import type { ListOptions } from '../core/lock-list.js';
import { parseListOptions } from '../core/lock-list.js';

export type { ListOptions, ListResult } from '../core/lock-list.js';

/** The listing's route, action and command. */
export const LIST = {
  method: 'GET',
  path: '/locks',
  /** Its name as a direct invocation's `action`. */
  action: 'list',
  command: 'ls',
  /** Its fields: query parameters on HTTP, event fields on a direct invocation. */
  fields: ['prefix', 'limit', 'cursor'],
} as const satisfies {
  method: string;
  path: string;
  action: string;
  command: string;
  fields: readonly (keyof ListOptions)[];
};

/**
 * Checks the listing's fields; unknown ones are refused by name. From a query string (`text`),
 * `limit` arrives as decimal digits.
 *
 * @example parseListRequest({ prefix: 'orders/', limit: '50' }, { text: true })
 */
export function parseListRequest(
  input: Record<string, unknown>,
  { text = false }: { text?: boolean } = {},
): ListOptions {
  for (const key of Object.keys(input)) {
    if (!(LIST.fields as readonly string[]).includes(key)) {
      throw new ValidationError(
        key,
        `unknown field "${key}"; expected only ${LIST.fields.map((f) => `"${f}"`).join(', ')}`,
      );
    }
  }
  const options: ListOptions = {};
  const value = (name: keyof ListOptions) => (Object.hasOwn(input, name) ? input[name] : undefined);
  const limit = value('limit');
  if (value('prefix') !== undefined) options.prefix = value('prefix') as string;
  if (limit !== undefined) {
    options.limit = (
      text && typeof limit === 'string' && /^[0-9]{1,7}$/.test(limit) ? Number(limit) : limit
    ) as number;
  }
  if (value('cursor') !== undefined) options.cursor = value('cursor') as string;
  parseListOptions(options); // refuses bad input by field before anything is read
  return options;
}

// RFC 3986 unreserved characters only, as SigV4 canonicalizes a query.
const strictEncode = (value: string): string =>
  encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );

/**
 * The URL path and query of a listing.
 *
 * @example listPath({ prefix: 'a/', limit: 10 }) === '/locks?prefix=a%2F&limit=10'
 */
export function listPath(options: ListOptions = {}): string {
  // encodeURIComponent, not URLSearchParams: a `+` for a space is not decoded everywhere.
  const query = LIST.fields
    .filter((name) => options[name] !== undefined)
    .map((name) => `${name}=${strictEncode(String(options[name]))}`)
    .join('&');
  return query ? `${LIST.path}?${query}` : LIST.path;
}

/** True for the listing's path (a trailing slash tolerated). @example isListPath('/locks/') */
export const isListPath = (path: string): boolean => path === LIST.path || path === `${LIST.path}/`;
