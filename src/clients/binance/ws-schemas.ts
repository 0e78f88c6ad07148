/** Raw Binance USDⓈ-M WebSocket frames (§1.5). Decimals are strings; unknown keys (`ap`, `st`, `ps`) are allowed. */
import { z } from 'zod';

const dec = z.union([z.string(), z.number()]);

/** `<symbol>@kline_<interval>` event. */
export const klineEvent = z.object({
  e: z.literal('kline'),
  E: z.number(),
  s: z.string(),
  k: z.object({
    t: z.number(),
    T: z.number(),
    s: z.string(),
    i: z.string(),
    o: dec,
    c: dec,
    h: dec,
    l: dec,
    v: dec,
    n: z.number(),
    x: z.boolean(),
    q: dec,
    V: dec,
  }),
});

/** `<symbol>@markPrice[@1s]` event. */
export const markPriceEvent = z.object({
  e: z.literal('markPriceUpdate'),
  E: z.number(),
  s: z.string(),
  p: dec,
  r: dec,
  T: z.number(),
});

/** `<symbol>@forceOrder` / `!forceOrder@arr` event. */
export const forceOrderEvent = z.object({
  e: z.literal('forceOrder'),
  E: z.number(),
  o: z.object({
    s: z.string(),
    S: z.enum(['BUY', 'SELL']),
    q: dec,
    p: dec,
    ap: dec.optional(),
    z: dec.optional(),
    T: z.number(),
  }),
});

/** Answer to a control message: `{"result":null,"id":1}` or `{"error":{"code":2,"msg":"…"},"id":1}`. */
export const controlAnswer = z.object({
  id: z.union([z.number(), z.string(), z.null()]),
  result: z.unknown().optional(),
  error: z.object({ code: z.number(), msg: z.string() }).optional(),
});
