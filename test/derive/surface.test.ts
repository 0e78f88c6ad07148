import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Candle, FundingRate, IndicatorValue, OpenInterest, TimeRange } from '../../src/core/index.js';
import * as derive from '../../src/derive/index.js';

const dir = join(import.meta.dirname, '../../src/derive');

describe('perpdata/derive surface', () => {
  it('default: the entry point exports exactly these names', () => {
    expect(Object.keys(derive).sort()).toEqual([
      'MARKET_AVERAGE_KINDS',
      'MT_SYMBOL',
      'RSI_DEFAULT_PERIOD',
      'RSI_FLAT_VALUE',
      'createCandleRsi',
      'createMarketAverage',
      'createRsi',
      'distributeByVolume',
      'expandTo1m',
      'findGaps',
      'marketAverage',
      'rsi',
      'rsiFromCandles',
      'rsiName',
    ]);
  });

  it('behavior: src/derive is pure: imports only src/core and its own files, reads no clock, env or randomness', async () => {
    const files = (await readdir(dir)).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(1);
    for (const file of files) {
      // The code, not its TSDoc: examples there import from 'perpdata' as a user would.
      const text = (await readFile(join(dir, file), 'utf8'))
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
      const specifiers = [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1] as string);
      for (const specifier of specifiers) {
        expect(specifier, `${file} imports ${specifier}`).toMatch(/^(\.\/[\w-]+|\.\.\/core\/[\w-]+)\.js$/);
      }
      expect(text, file).not.toMatch(
        /Date\.now|new Date\(\)|process\.|Math\.random|performance\.now|import\(/,
      );
      expect(text, `${file} must not load perpdata/testing`).not.toMatch(/testing\/|from '(msw|ws)'/);
    }
  });

  it('default: public signatures infer the record types', () => {
    expectTypeOf(derive.marketAverage<'candles'>).returns.toEqualTypeOf<Candle[]>();
    expectTypeOf(
      derive.marketAverage({} as Record<string, FundingRate[]>, { kind: 'funding' }),
    ).toEqualTypeOf<FundingRate[]>();
    expectTypeOf(derive.expandTo1m([] as OpenInterest[])).toEqualTypeOf<OpenInterest[]>();
    expectTypeOf(derive.rsi([1, 2, 3])).toEqualTypeOf<number[]>();
    expectTypeOf(derive.createRsi().next).returns.toEqualTypeOf<number | undefined>();
    expectTypeOf(derive.rsiFromCandles([])).toEqualTypeOf<IndicatorValue[]>();
    expectTypeOf(derive.findGaps([], '1m', 0, 1)).toEqualTypeOf<TimeRange[]>();
    expect(derive.MT_SYMBOL).toBe('MT');
  });
});
