/**
 * Raw OKX v5 payloads as the venue sends them. Every body is `{code, msg, data}` with `code` a
 * string; errors mostly arrive with HTTP 200 (`code !== "0"`, `data: []`), rate limits with HTTP 429
 * and `{"msg":"Too Many Requests","code":"50011"}`. Check `envelopeError` before the data schemas.
 * Every value is a string; decimals stay strings (converted in `src/normalize/okx.ts`), `""` is
 * allowed where the venue leaves a field empty, objects allow unknown keys (they are stripped).
 */
import { z } from 'zod';

/** A decimal as OKX writes it (`"0.0000182221218054"`, `"2216113.01000000309"`); never `""`. */
const decimal = z.string().regex(/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/, 'expected a decimal string');
/** A decimal the venue may leave empty. */
const decimalOrEmpty = z.union([decimal, z.literal('')]);
/** Epoch milliseconds as a digit string (a number is accepted too); a number after parsing. */
const millis = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]);

/** The part of every body that says whether the request failed. */
export const errorEnvelope = z.object({
  code: z.union([z.string(), z.number().transform(String)]),
  msg: z.string(),
  data: z.unknown().optional(),
});
/** `{code, msg}` of a body. */
export type OkxErrorEnvelope = z.infer<typeof errorEnvelope>;

/**
 * The venue's error in a body: `{ code, msg }` when `code !== "0"`, else `undefined` (also for
 * bodies that are not envelopes at all).
 * @example envelopeError({ code: '51001', msg: "Instrument ID … doesn't exist.", data: [] })?.code // '51001'
 */
export function envelopeError(body: unknown): OkxErrorEnvelope | undefined {
  const parsed = errorEnvelope.safeParse(body);
  return parsed.success && parsed.data.code !== '0' ? parsed.data : undefined;
}

/** A successful body around `data`. */
export function envelope<T extends z.ZodType>(data: T) {
  return z.object({ code: z.literal('0'), msg: z.string(), data });
}

/**
 * `[ts, o, h, l, c, vol (contracts), volCcy (base), volCcyQuote (quote), confirm]`, newest first;
 * `confirm` is `"0"` while the candle is forming.
 */
export const candleRow = z.tuple(
  [millis, decimal, decimal, decimal, decimal, decimal, decimalOrEmpty, decimalOrEmpty, z.enum(['0', '1'])],
  z.unknown(),
);
/** One parsed candle row. */
export type OkxCandleRow = z.infer<typeof candleRow>;
/** `GET /api/v5/market/history-candles` and `/api/v5/market/candles`. */
export const candles = envelope(z.array(candleRow));

/** One settled funding of `/api/v5/public/funding-rate-history`; `realizedRate` is what was charged. */
export const fundingHistoryRow = z.object({
  instId: z.string(),
  instType: z.string().optional(),
  fundingRate: decimal,
  realizedRate: decimalOrEmpty.optional(),
  fundingTime: millis,
  method: z.string().optional(),
  formulaType: z.string().optional(),
});
/** One parsed funding-history row. */
export type OkxFundingHistoryRow = z.infer<typeof fundingHistoryRow>;
/** `GET /api/v5/public/funding-rate-history` (newest first, about three months deep). */
export const fundingHistory = envelope(z.array(fundingHistoryRow));

/** The current funding of `/api/v5/public/funding-rate`: `fundingRate` settles at `fundingTime`. */
export const fundingRateRow = z.object({
  instId: z.string(),
  instType: z.string().optional(),
  fundingRate: decimal,
  fundingTime: millis,
  nextFundingTime: z.union([millis, z.literal('')]).optional(),
  prevFundingTime: z.union([millis, z.literal('')]).optional(),
  nextFundingRate: z.string().optional(),
  settFundingRate: decimalOrEmpty.optional(),
  method: z.string().optional(),
  ts: millis,
});
/** One parsed current-funding row. */
export type OkxFundingRateRow = z.infer<typeof fundingRateRow>;
/** `GET /api/v5/public/funding-rate?instId=`. */
export const fundingRate = envelope(z.array(fundingRateRow));

/** `[ts, oi (contracts), oiCcy (base), oiUsd]` of `/api/v5/rubik/stat/contracts/open-interest-history`. */
export const openInterestRow = z.tuple([millis, decimal, decimalOrEmpty, decimalOrEmpty], z.unknown());
/** One parsed open-interest row. */
export type OkxOpenInterestRow = z.infer<typeof openInterestRow>;
/** `GET /api/v5/rubik/stat/contracts/open-interest-history` (newest first, latest 1,440 rows). */
export const openInterestHistory = envelope(z.array(openInterestRow));

/** `[ts, longShortRatio]` of the three rubik long/short endpoints. */
export const ratioRow = z.tuple([millis, decimal], z.unknown());
/** One parsed long/short row. */
export type OkxRatioRow = z.infer<typeof ratioRow>;
/** `GET /api/v5/rubik/stat/contracts/long-short-account-ratio-contract[-top-trader]` and `long-short-position-ratio-contract-top-trader`. */
export const longShortRatio = envelope(z.array(ratioRow));

/** `[ts, sellVol, buyVol]` of `/api/v5/rubik/stat/taker-volume-contract`: **sell first**. */
export const takerVolumeRow = z.tuple([millis, decimal, decimal], z.unknown());
/** One parsed taker-volume row. */
export type OkxTakerVolumeRow = z.infer<typeof takerVolumeRow>;
/** `GET /api/v5/rubik/stat/taker-volume-contract` (unit by the `unit` param: 0 coin, 1 contracts, 2 USDT). */
export const takerVolume = envelope(z.array(takerVolumeRow));

/** One instrument of `/api/v5/public/instruments?instType=SWAP`; `preopen` rows leave most fields `""`. */
export const instrumentRow = z.object({
  instId: z.string(),
  instType: z.string(),
  instFamily: z.string().optional(),
  uly: z.string().optional(),
  settleCcy: z.string(),
  ctType: z.string(),
  ctVal: decimalOrEmpty,
  ctMult: decimalOrEmpty.optional(),
  ctValCcy: z.string(),
  listTime: z.union([millis, z.literal('')]).optional(),
  state: z.string(),
});
/** One parsed instrument. */
export type OkxInstrumentRow = z.infer<typeof instrumentRow>;
/** `GET /api/v5/public/instruments?instType=SWAP` (one page, live instruments only). */
export const instruments = envelope(z.array(instrumentRow));

/** `GET /api/v5/public/time`. */
export const serverTime = envelope(z.array(z.object({ ts: millis })).min(1));
/** One parsed server-time body. */
export type OkxServerTime = z.infer<typeof serverTime>;
