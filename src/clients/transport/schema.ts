import type { TransportRequest } from './types.js';

/** A zod-like schema: anything with `safeParse`. */
export interface Schema<T> {
  safeParse(
    data: unknown,
  ):
    | { success: true; data: T }
    | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };
}

/**
 * The `schema` and `decode` of a request whose answer is normalised at the boundary: `decode` reads
 * plain bodies from bytes in one pass; anything else is validated by `schema` and normalised by
 * `normalise`, and a normaliser that refuses a value (a blank price) fails validation like a schema.
 */
export function normalisedPages<R, T>(
  schema: Schema<R>,
  normalise: (data: R) => T,
  decode?: (body: Uint8Array) => T | undefined,
): Pick<TransportRequest<T>, 'schema' | 'decode'> {
  return {
    decode,
    schema: {
      safeParse(data) {
        const parsed = schema.safeParse(data);
        if (!parsed.success) return parsed;
        try {
          return { success: true, data: normalise(parsed.data) };
        } catch (error) {
          return { success: false, error: { issues: [{ path: [], message: (error as Error).message }] } };
        }
      },
    },
  };
}
