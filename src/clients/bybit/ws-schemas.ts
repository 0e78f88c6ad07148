/** Raw Bybit v5 public linear WebSocket frames (§2.4). Unknown keys are allowed. */
import { z } from 'zod';

const dec = z.union([z.string(), z.number()]);

/** A `kline.{interval}.{symbol}` row; `confirm: true` = closed. */
export const klineRow = z.object({
  start: z.number(),
  end: z.number(),
  interval: z.string(),
  open: dec,
  close: dec,
  high: dec,
  low: dec,
  volume: dec,
  turnover: dec,
  confirm: z.boolean(),
  timestamp: z.number(),
});

/** A data push: `{ topic, type, ts, data }`. */
export const push = z.object({
  topic: z.string(),
  type: z.string().optional(),
  ts: z.number(),
  data: z.unknown(),
});

/** `tickers.{symbol}` data: a full snapshot, or a delta with the changed fields only. */
export const tickerData = z
  .object({
    symbol: z.string(),
    fundingRate: z.string().optional(),
    nextFundingTime: z.string().optional(),
    openInterest: z.string().optional(),
    openInterestValue: z.string().optional(),
    singleOpenInterest: z.string().optional(),
    singleOpenInterestValue: z.string().optional(),
  })
  .catchall(z.unknown());

/** An `allLiquidation.{symbol}` row; `S: "Buy"` = a long was liquidated. */
export const liquidationRow = z.object({
  T: z.number(),
  s: z.string(),
  S: z.enum(['Buy', 'Sell']),
  v: dec,
  p: dec,
});

/** An answer to `subscribe` / `ping`. */
export const opAnswer = z.object({
  success: z.boolean().optional(),
  ret_msg: z.string().optional(),
  req_id: z.string().optional(),
  op: z.string(),
});
