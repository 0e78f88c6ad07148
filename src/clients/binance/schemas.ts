/**
 * Raw Binance USDⓈ-M payloads as the venue sends them. Decimal fields stay strings here and are
 * converted in `src/normalize/binance.ts`. Objects allow unknown keys (Binance adds fields the docs
 * omit: `rateType`, `CMCCirculatingSupply`, …).
 */
import { z } from 'zod';

const decimal = z.string();
/** Live bodies send numbers where the docs show strings (`timestamp`); accept both. */
const millis = z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]);

/** `[openTime, o, h, l, c, volume, closeTime, quoteVolume, trades, takerBuyBase, takerBuyQuote, ignore]` */
export const klineRow = z.tuple(
  [
    z.number().int(),
    decimal,
    decimal,
    decimal,
    decimal,
    decimal,
    z.number().int(),
    decimal,
    z.number().int(),
    decimal,
    decimal,
  ],
  z.unknown(),
);
export type BinanceKlineRow = z.infer<typeof klineRow>;
const klinesSchema = z.array(klineRow);

function isKlineRow(r: unknown): boolean {
  if (!Array.isArray(r) || r.length < 11) return false;
  return (
    Number.isInteger(r[0]) &&
    typeof r[1] === 'string' &&
    typeof r[2] === 'string' &&
    typeof r[3] === 'string' &&
    typeof r[4] === 'string' &&
    typeof r[5] === 'string' &&
    Number.isInteger(r[6]) &&
    typeof r[7] === 'string' &&
    Number.isInteger(r[8]) &&
    typeof r[9] === 'string' &&
    typeof r[10] === 'string'
  );
}

/**
 * Kline pages are the hot path of every backfill: rows are checked with the same rules as `klineRow`
 * by a plain loop, and only a page that fails goes through zod, for its precise issues.
 */
export const klines = {
  safeParse(data: unknown): ReturnType<typeof klinesSchema.safeParse> {
    if (Array.isArray(data) && data.every(isKlineRow))
      return { success: true, data: data as BinanceKlineRow[] };
    return klinesSchema.safeParse(data);
  },
};

export const fundingRow = z.object({
  symbol: z.string(),
  fundingTime: millis,
  fundingRate: decimal,
  markPrice: decimal.optional(),
});
export type BinanceFundingRow = z.infer<typeof fundingRow>;
export const fundingRates = z.array(fundingRow);

export const premiumIndex = z.object({
  symbol: z.string(),
  markPrice: decimal,
  indexPrice: decimal.optional(),
  lastFundingRate: decimal,
  nextFundingTime: millis,
  time: millis,
});
export type BinancePremiumIndex = z.infer<typeof premiumIndex>;

/** One row of `/fapi/v1/fundingInfo`: only instruments whose cap, floor or interval were adjusted. */
export const fundingInfoRow = z.object({
  symbol: z.string(),
  fundingIntervalHours: z.number().positive(),
});
export type BinanceFundingInfoRow = z.infer<typeof fundingInfoRow>;
/** `GET /fapi/v1/fundingInfo`. */
export const fundingInfo = z.array(fundingInfoRow);

export const openInterestHistRow = z.object({
  symbol: z.string(),
  sumOpenInterest: decimal,
  sumOpenInterestValue: decimal.optional(),
  timestamp: millis,
});
export type BinanceOpenInterestRow = z.infer<typeof openInterestHistRow>;
export const openInterestHist = z.array(openInterestHistRow);

export const longShortRow = z.object({
  symbol: z.string().optional(),
  longShortRatio: decimal,
  longAccount: decimal,
  shortAccount: decimal,
  timestamp: millis,
});
export type BinanceLongShortRow = z.infer<typeof longShortRow>;
export const longShortRatios = z.array(longShortRow);

export const takerRow = z.object({
  buySellRatio: decimal.optional(),
  buyVol: decimal,
  sellVol: decimal,
  timestamp: millis,
});
export type BinanceTakerRow = z.infer<typeof takerRow>;
export const takerVolumes = z.array(takerRow);

export const exchangeInfoSymbol = z.object({
  symbol: z.string(),
  pair: z.string().optional(),
  contractType: z.string(),
  status: z.string(),
  baseAsset: z.string(),
  quoteAsset: z.string(),
  onboardDate: z.number().optional(),
});
export type BinanceExchangeInfoSymbol = z.infer<typeof exchangeInfoSymbol>;

export const rateLimitEntry = z.object({
  rateLimitType: z.string(),
  interval: z.string(),
  intervalNum: z.number(),
  limit: z.number(),
});

export const exchangeInfo = z.object({
  rateLimits: z.array(rateLimitEntry).optional(),
  symbols: z.array(exchangeInfoSymbol),
});
export type BinanceExchangeInfo = z.infer<typeof exchangeInfo>;

export const serverTime = z.object({ serverTime: z.number().int() });

/** `{"code":-1121,"msg":"Invalid symbol."}` */
export const errorBody = z.object({ code: z.number(), msg: z.string() });
