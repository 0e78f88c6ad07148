/**
 * What every data kind stores: its series key beyond `source, exchange, symbol`, and its value fields.
 * Both adapters, the validation and the Postgres schema are driven by this one table.
 */
import type { DataKind } from '../core/types.js';

/** How a value field is stored: a float, an integer, or an epoch-ms time. */
export type ValueType = 'float' | 'integer' | 'time';

/** One value field of a record. */
export interface ValueField {
  /** Property of the record. */
  readonly field: string;
  /** Column in Postgres (snake_case). */
  readonly column: string;
  readonly type: ValueType;
  /** Required fields must be present; optional ones may be `undefined` (stored as NULL). */
  readonly required: boolean;
}

/** The series-key field carried by `SeriesKey.kind`: the ratio kind or the indicator name. */
export interface SubKeyField {
  readonly field: 'kind' | 'name';
  /** Allowed values, when the set is closed. */
  readonly values?: readonly string[];
}

/** Storage description of one data kind. */
export interface KindSpec {
  readonly kind: DataKind;
  /** Table name without prefix, e.g. `candles` (the table is `perp_candles`). */
  readonly table: string;
  /** Whether the series key includes `interval`. */
  readonly hasInterval: boolean;
  /** The series-key field `SeriesKey.kind` maps to, if any. */
  readonly subKey: SubKeyField | undefined;
  readonly values: readonly ValueField[];
}

const f = (field: string, column: string, type: ValueType = 'float', required = true): ValueField => ({
  field,
  column,
  type,
  required,
});
const opt = (field: string, column: string, type: ValueType = 'float'): ValueField =>
  f(field, column, type, false);

/** Ratio populations of `LongShortRatio.kind`. */
export const LONG_SHORT_KINDS = ['global', 'topAccount', 'topPosition'] as const;

/** The storage description of every data kind. */
export const KIND_SPECS: { readonly [K in DataKind]: KindSpec } = {
  candles: {
    kind: 'candles',
    table: 'candles',
    hasInterval: true,
    subKey: undefined,
    values: [
      f('open', 'open'),
      f('high', 'high'),
      f('low', 'low'),
      f('close', 'close'),
      f('volume', 'volume'),
      opt('quoteVolume', 'quote_volume'),
      opt('trades', 'trades', 'integer'),
      opt('takerBuyVolume', 'taker_buy_volume'),
    ],
  },
  funding: {
    kind: 'funding',
    table: 'funding',
    hasInterval: false,
    subKey: undefined,
    values: [f('rate', 'rate'), opt('markPrice', 'mark_price')],
  },
  predictedFunding: {
    kind: 'predictedFunding',
    table: 'predicted_funding',
    hasInterval: false,
    subKey: undefined,
    values: [f('rate', 'rate'), opt('nextFundingTime', 'next_funding_time', 'time')],
  },
  openInterest: {
    kind: 'openInterest',
    table: 'open_interest',
    hasInterval: true,
    subKey: undefined,
    values: [f('openInterest', 'open_interest'), opt('openInterestUsd', 'open_interest_usd')],
  },
  longShortRatio: {
    kind: 'longShortRatio',
    table: 'long_short_ratio',
    hasInterval: true,
    subKey: { field: 'kind', values: LONG_SHORT_KINDS },
    values: [f('ratio', 'ratio'), opt('longShare', 'long_share'), opt('shortShare', 'short_share')],
  },
  takerVolume: {
    kind: 'takerVolume',
    table: 'taker_volume',
    hasInterval: true,
    subKey: undefined,
    values: [f('buyVolume', 'buy_volume'), f('sellVolume', 'sell_volume')],
  },
  liquidations: {
    kind: 'liquidations',
    table: 'liquidations',
    hasInterval: true,
    subKey: undefined,
    values: [f('longUsd', 'long_usd'), f('shortUsd', 'short_usd')],
  },
  indicators: {
    kind: 'indicators',
    table: 'indicators',
    hasInterval: true,
    subKey: { field: 'name' },
    values: [f('value', 'value')],
  },
};

/** Series-key fields of a kind's records, in key order (`source, exchange, symbol, [interval], [kind|name]`). */
export function keyFields(spec: KindSpec): string[] {
  const fields = ['source', 'exchange', 'symbol'];
  if (spec.hasInterval) fields.push('interval');
  if (spec.subKey) fields.push(spec.subKey.field);
  return fields;
}
