/** Small helpers of the pipeline. */

/** ISO time without milliseconds when they are zero, for messages. */
export function iso(ts: number): string {
  return new Date(ts).toISOString().replace('.000Z', 'Z');
}
