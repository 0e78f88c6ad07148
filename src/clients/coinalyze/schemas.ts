/**
 * Raw Coinalyze v1 payloads. Values are JSON numbers (not strings), times are **seconds** in
 * history items (`t`), errors come with an HTTP status (400, 401, 404, 429) and a `{message}` body.
 * History bodies are `[{ symbol, history: [...] }]`, one element per requested symbol that has
 * data. `l` means *low* in OHLC items and *long* in liquidation and long/short items, so each
 * endpoint has its own item schema. Objects allow unknown keys (they are stripped).
 */
import { z } from 'zod';

/** Bucket start in epoch **seconds**; rejects milliseconds so a unit mix-up fails loudly. */
const seconds = z
  .number()
  .int()
  .nonnegative()
  .refine((t) => t < 100_000_000_000, 'expected epoch seconds, got milliseconds');
/** A value the venue may send as `null` where it has none. */
const optionalNumber = z.number().nullable().optional();

/** `{"message":"Invalid/Missing API key"}` (401), `{"message":"not found"}` (404), … */
export const errorBody = z.object({ message: z.string() });
/** A parsed error body. */
export type CoinalyzeErrorBody = z.infer<typeof errorBody>;

/** The message of an error body, or `undefined` when the body is not one. */
export function errorMessage(body: unknown): string | undefined {
  const parsed = errorBody.safeParse(body);
  return parsed.success ? parsed.data.message : undefined;
}

/** `[{ symbol, history }]` around one item schema. */
export function historyResponse<T extends z.ZodType>(item: T) {
  return z.array(z.object({ symbol: z.string(), history: z.array(item) }));
}

/** `/ohlcv-history` item: prices, volume `v` and buy (taker-buy) volume `bv` in `oi_lq_vol_denominated_in` units. */
export const ohlcvItem = z.object({
  t: seconds,
  o: z.number(),
  h: z.number(),
  l: z.number(),
  c: z.number(),
  v: z.number(),
  bv: optionalNumber,
  tx: optionalNumber,
  btx: optionalNumber,
});
/** One parsed OHLCV item. */
export type CoinalyzeOhlcvItem = z.infer<typeof ohlcvItem>;
/** `GET /ohlcv-history`. */
export const ohlcvHistory = historyResponse(ohlcvItem);

/** OHLC of a series within a bucket (`l` = low): open interest, funding rate, predicted funding rate. */
export const ohlcItem = z.object({ t: seconds, o: z.number(), h: z.number(), l: z.number(), c: z.number() });
/** One parsed OHLC item. */
export type CoinalyzeOhlcItem = z.infer<typeof ohlcItem>;
/** `GET /open-interest-history`, `/funding-rate-history`, `/predicted-funding-rate-history`. */
export const ohlcHistory = historyResponse(ohlcItem);

/** `/liquidation-history` item: `l` = **longs** liquidated, `s` = shorts (USD with `convert_to_usd=true`). */
export const liquidationItem = z.object({ t: seconds, l: z.number(), s: z.number() });
/** One parsed liquidation item. */
export type CoinalyzeLiquidationItem = z.infer<typeof liquidationItem>;
/** `GET /liquidation-history`. */
export const liquidationHistory = historyResponse(liquidationItem);

/** `/long-short-ratio-history` item: ratio `r`, long share `l` and short share `s` in **percent**. */
export const longShortItem = z.object({ t: seconds, r: z.number(), l: z.number(), s: z.number() });
/** One parsed long/short item. */
export type CoinalyzeLongShortItem = z.infer<typeof longShortItem>;
/** `GET /long-short-ratio-history`. */
export const longShortHistory = historyResponse(longShortItem);

/** One market of `/future-markets`. `expire_at` is `null` for perpetuals, ms for dated futures. */
export const futureMarket = z.object({
  symbol: z.string(),
  exchange: z.string(),
  symbol_on_exchange: z.string(),
  base_asset: z.string(),
  quote_asset: z.string(),
  expire_at: z.number().nullable().optional(),
  is_perpetual: z.boolean(),
  margined: z.string().optional(),
  oi_lq_vol_denominated_in: z.string(),
  has_long_short_ratio_data: z.boolean().optional(),
  has_ohlcv_data: z.boolean().optional(),
  has_buy_sell_data: z.boolean().optional(),
});
/** One parsed future market. */
export type CoinalyzeFutureMarket = z.infer<typeof futureMarket>;
/** `GET /future-markets`. */
export const futureMarkets = z.array(futureMarket);

/** One value of the current-value endpoints (`/open-interest`, `/funding-rate`): `update` in **ms**. */
export const currentValue = z.object({ symbol: z.string(), value: z.number(), update: z.number().int() });
/** One parsed current value. */
export type CoinalyzeCurrentValue = z.infer<typeof currentValue>;
/** `GET /open-interest`, `/funding-rate`, `/predicted-funding-rate`: one element per symbol that has a value. */
export const currentValues = z.array(currentValue);

/** `GET /exchanges` → `[{ name, code }]`. */
export const exchanges = z.array(z.object({ name: z.string(), code: z.string() }));
