/** Raw OKX v5 WebSocket frames (§3.4). Values are strings; unknown keys are allowed. */
import { z } from 'zod';

/** A subscription argument: `{ channel, instId }` or `{ channel, instType }`. */
export const arg = z.object({
  channel: z.string(),
  instId: z.string().optional(),
  instType: z.string().optional(),
});

/** A data push: `{ arg, data }`. */
export const push = z.object({ arg, data: z.array(z.unknown()) });

/** An event: `subscribe` ack, `error`, `notice`. */
export const event = z.object({
  event: z.string(),
  id: z.string().optional(),
  arg: arg.optional(),
  code: z.string().optional(),
  msg: z.string().optional(),
});

/** A candle row: `[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]`. */
export const candleRow = z.tuple([
  z.string(),
  z.string(),
  z.string(),
  z.string(),
  z.string(),
  z.string(),
  z.string(),
  z.string(),
  z.string(),
]);

/** A `funding-rate` row. */
export const fundingRow = z.object({
  instId: z.string(),
  fundingRate: z.string(),
  fundingTime: z.string(),
  ts: z.string(),
});

/** An `open-interest` row: `oi` in contracts, `oiCcy` in the base coin, `oiUsd`. */
export const openInterestRow = z.object({
  instId: z.string(),
  oi: z.string(),
  oiCcy: z.string(),
  oiUsd: z.string().optional(),
  ts: z.string(),
});

/** A `liquidation-orders` row; `sz` is in contracts, `side: "sell"` closes a long. */
export const liquidationRow = z.object({
  instId: z.string(),
  details: z.array(
    z.object({
      side: z.enum(['buy', 'sell']),
      posSide: z.string().optional(),
      bkPx: z.string(),
      sz: z.string(),
      ts: z.string(),
    }),
  ),
});
