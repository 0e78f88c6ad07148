/**
 * Raw Bybit v5 (category `linear`) payloads as the venue sends them. Every body is an envelope
 * `{retCode, retMsg, result, retExtInfo, time}` that arrives with HTTP 200 even for errors: a body
 * with `retCode != 0` carries `result: {}` and fails the data schemas below, so check it with
 * `envelopeError` first. Decimals stay strings (converted in `src/normalize/bybit.ts`), objects
 * allow unknown keys (they are stripped), and timestamps accept digit strings or numbers.
 */
import { z } from 'zod';

/** A decimal as Bybit writes it (`"0.00004403"`, `"-0.00249093"`, `"62129.45500000"`); never `""`. */
const decimal = z.string().regex(/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/, 'expected a decimal string');
/** A decimal the venue may leave empty (`""` on tickers of pre-listing symbols). */
const decimalOrEmpty = z.union([decimal, z.literal('')]);
/** Epoch milliseconds: a digit string in REST bodies, a number in a few places; always a number after parsing. */
const millis = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]);

/** The part of every envelope that says whether the request failed. */
export const errorEnvelope = z.object({
  retCode: z.number().int(),
  retMsg: z.string(),
  time: z.number().optional(),
});
/** `{retCode, retMsg}` of an envelope. */
export type BybitErrorEnvelope = z.infer<typeof errorEnvelope>;

/**
 * The venue's error inside an HTTP 200 body: `{ retCode, retMsg }` when `retCode != 0`, else
 * `undefined` (also for bodies that are not envelopes at all).
 * @example envelopeError({ retCode: 10001, retMsg: 'Not supported symbols', result: {} }) // { retCode: 10001, … }
 */
export function envelopeError(body: unknown): BybitErrorEnvelope | undefined {
  const parsed = errorEnvelope.safeParse(body);
  return parsed.success && parsed.data.retCode !== 0 ? parsed.data : undefined;
}

/** A successful envelope around `result`. */
export function envelope<T extends z.ZodType>(result: T) {
  return z.object({
    retCode: z.literal(0),
    retMsg: z.string(),
    result,
    retExtInfo: z.unknown().optional(),
    time: z.number().int(),
  });
}

/** `[startTime, open, high, low, close, volume (base coin / bundles), turnover (quote)]`, newest row first. */
export const klineRow = z.tuple([millis, decimal, decimal, decimal, decimal, decimal, decimal], z.unknown());
/** One parsed kline row. */
export type BybitKlineRow = z.infer<typeof klineRow>;
/** `GET /v5/market/kline`. */
export const kline = envelope(
  z.object({ symbol: z.string().optional(), category: z.string().optional(), list: z.array(klineRow) }),
);

/** One settled funding rate. */
export const fundingRow = z.object({
  symbol: z.string(),
  fundingRate: decimal,
  fundingRateTimestamp: millis,
});
/** One parsed funding row. */
export type BybitFundingRow = z.infer<typeof fundingRow>;
/** `GET /v5/market/funding/history` (newest first). */
export const fundingHistory = envelope(
  z.object({ category: z.string().optional(), list: z.array(fundingRow) }),
);

/** One row of `/v5/market/tickers` (only the fields perpdata reads are typed). */
export const tickerRow = z.object({
  symbol: z.string(),
  lastPrice: decimalOrEmpty.optional(),
  markPrice: decimalOrEmpty.optional(),
  indexPrice: decimalOrEmpty.optional(),
  openInterest: decimalOrEmpty.optional(),
  openInterestValue: decimalOrEmpty.optional(),
  singleOpenInterest: decimalOrEmpty.optional(),
  singleOpenInterestValue: decimalOrEmpty.optional(),
  fundingRate: decimalOrEmpty,
  nextFundingTime: z.union([millis, z.literal('')]),
  fundingIntervalHour: z.string().optional(),
});
/** One parsed ticker row. */
export type BybitTickerRow = z.infer<typeof tickerRow>;
/** `GET /v5/market/tickers?category=linear[&symbol=]`. */
export const tickers = envelope(z.object({ category: z.string().optional(), list: z.array(tickerRow) }));

/** One open-interest row; `singleOpenInterest` (one side) is absent from live history bodies. */
export const openInterestRow = z.object({
  openInterest: decimal,
  singleOpenInterest: decimal.optional(),
  timestamp: millis,
});
/** One parsed open-interest row. */
export type BybitOpenInterestRow = z.infer<typeof openInterestRow>;
/** `GET /v5/market/open-interest` (newest first, paged with `nextPageCursor`, `""` on the last page). */
export const openInterest = envelope(
  z.object({
    symbol: z.string().optional(),
    category: z.string().optional(),
    list: z.array(openInterestRow),
    nextPageCursor: z.string().optional(),
  }),
);

/** One all-accounts long/short row: `buyRatio`/`sellRatio` are fractions of holders. */
export const accountRatioRow = z.object({
  symbol: z.string().optional(),
  buyRatio: decimal,
  sellRatio: decimal,
  timestamp: millis,
});
/** One parsed account-ratio row. */
export type BybitAccountRatioRow = z.infer<typeof accountRatioRow>;
/** `GET /v5/market/account-ratio` (newest first, paged with `nextPageCursor`). */
export const accountRatio = envelope(
  z.object({ list: z.array(accountRatioRow), nextPageCursor: z.string().optional() }),
);

/** One instrument of `/v5/market/instruments-info` (only the fields perpdata reads are typed). */
export const instrumentRow = z.object({
  symbol: z.string(),
  contractType: z.string(),
  status: z.string(),
  baseCoin: z.string(),
  quoteCoin: z.string(),
  settleCoin: z.string().optional(),
  launchTime: millis.optional(),
  deliveryTime: z.string().optional(),
  fundingInterval: z.number().optional(),
});
/** One parsed instrument. */
export type BybitInstrumentRow = z.infer<typeof instrumentRow>;
/** `GET /v5/market/instruments-info?category=linear` (paged with `nextPageCursor`, `""` when done). */
export const instrumentsInfo = envelope(
  z.object({
    category: z.string().optional(),
    list: z.array(instrumentRow),
    nextPageCursor: z.string().optional(),
  }),
);

/** `GET /v5/market/time`. */
export const serverTime = envelope(
  z.object({ timeSecond: z.string().regex(/^\d+$/), timeNano: z.string().regex(/^\d+$/) }),
);
/** One parsed server-time body. */
export type BybitServerTime = z.infer<typeof serverTime>;
