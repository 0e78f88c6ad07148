/** Helpers shared by the venue client tests. */

/** Every row of a paged history call, and how many pages it came in. */
export async function collect<T>(pages: AsyncIterable<T[]>): Promise<{ rows: T[]; pages: number }> {
  const rows: T[] = [];
  let n = 0;
  for await (const page of pages) {
    n++;
    rows.push(...page);
  }
  return { rows, pages: n };
}
