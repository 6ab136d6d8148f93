// An item's size as DynamoDB counts it ("Item sizes and formats" in the DynamoDB developer
// guide), computed independently of lib/core's permit budget so a test can check that budget.

const utf8 = (text: string): number => Buffer.byteLength(text, 'utf8');

/** The size of a stored (unmarshalled) item in bytes. */
export function itemBytes(item: Record<string, unknown>): number {
  return Object.entries(item).reduce(
    (sum, [name, value]) => sum + utf8(name) + valueBytes(value),
    0,
  );
}

function valueBytes(value: unknown): number {
  if (typeof value === 'string') return utf8(value);
  if (typeof value === 'number') {
    // 1 byte per 2 significant digits, plus 1; leading and trailing zeroes do not count.
    const digits = String(Math.abs(value)).replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
    return Math.ceil(digits.length / 2) + 1;
  }
  if (typeof value === 'boolean' || value === null) return 1;
  if (value instanceof Set) return [...value].reduce<number>((sum, v) => sum + valueBytes(v), 0);
  // A list or map: 3 bytes, plus each element's name (a map's), value and 1 byte.
  if (Array.isArray(value)) return 3 + value.reduce<number>((sum, v) => sum + valueBytes(v) + 1, 0);
  if (typeof value === 'object') {
    return Object.entries(value).reduce(
      (sum, [name, v]) => sum + utf8(name) + valueBytes(v) + 1,
      3,
    );
  }
  return 0;
}
