/**
 * The synthetic symbols of `bench/live.bench.ts` and its simulator child: `ZAAA`, `ZAAB`, … (capital
 * letters only, so that no name reads as a 1000-style bundle and none is one of the simulators'
 * static assets), the same list in both processes.
 */
export function liveSymbols(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let name = '';
    for (let k = i, d = 0; d < 3; d++, k = Math.floor(k / 26))
      name = String.fromCharCode(65 + (k % 26)) + name;
    out.push(`Z${name}`);
  }
  return out;
}
