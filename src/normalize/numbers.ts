/**
 * Numeric conversion policy for raw payloads. Schemas validate raw fields as the venue sends them
 * (usually strings); normalisers convert with these. `Number('')` is `0`, which would silently turn a
 * missing value into a real one, so empty strings are rejected here.
 */

/** A required numeric field: a finite number, or throws `TypeError` naming the field. */
export function num(value: string | number, field = 'value'): number {
  // `+''` and `+' '` are 0: a blank string must fail, not become a price of zero.
  const n =
    typeof value === 'number'
      ? value
      : value.length === 0 || value.charCodeAt(0) === 32
        ? Number.NaN
        : +value;
  if (!Number.isFinite(n)) throw new TypeError(`${field} is not a finite number: ${JSON.stringify(value)}`);
  return n;
}

/** An optional numeric field: `undefined` for `''`, `null`, `undefined` or a non-finite value. */
export function numOrUndefined(value: string | number | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const n = typeof value === 'number' ? value : value.trim() === '' ? Number.NaN : Number(value);
  return Number.isFinite(n) ? n : undefined;
}
