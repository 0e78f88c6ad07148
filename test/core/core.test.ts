import { describe, expect, it } from 'vitest';
import { classifyError } from '../../src/clients/transport/retry.js';
import {
  HttpError,
  InvalidArgumentError,
  NetworkError,
  RateLimitError,
  StorageError,
  UnknownSymbolError,
  ValidationError,
} from '../../src/core/errors.js';
import {
  addInterval,
  ceilToInterval,
  countPeriods,
  floorToInterval,
  intervalMs,
  isAligned,
} from '../../src/core/intervals.js';
import { redactText, redactUrl, registerSecret } from '../../src/core/redact.js';
import { toEpochMs, toRange } from '../../src/core/time.js';
import { num, numOrUndefined } from '../../src/normalize/numbers.js';
import { SymbolRegistry, splitMultiplier } from '../../src/normalize/symbols.js';

describe('redaction', () => {
  it('default: proxy credentials and key parameters are masked in URLs', () => {
    expect(redactUrl('http://bob:hunter2@proxy.local:8080')).toBe('http://***:***@proxy.local:8080/');
    expect(redactUrl('https://api.example/v1/ohlcv?symbols=BTC&api_key=abcd1234')).toBe(
      'https://api.example/v1/ohlcv?symbols=BTC&api_key=***',
    );
    expect(redactUrl('not a url api_key=abcd1234')).toBe('not a url api_key=***');
  });

  it('behavior: free text with URLs, header-style keys and registered secrets is masked', () => {
    registerSecret('k3y-v4lue-registered');
    const text = redactText(
      'connect to http://u:p4ss@10.0.0.1:3128 failed; headers api_key: sEcReT123; X-MBX-APIKEY=zzz; body k3y-v4lue-registered',
      true,
      ['k3y-v4lue-registered'],
    );
    expect(text).not.toMatch(/p4ss|sEcReT123|zzz|k3y-v4lue-registered/);
  });

  it('behavior: no error message ever contains proxy credentials or API keys', () => {
    registerSecret('my-coinalyze-key-123');
    const errors = [
      new NetworkError('Request failed via http://alice:pw-9911@127.0.0.1:9/ with key my-coinalyze-key-123', {
        venue: 'coinalyze',
        endpoint: '/ohlcv-history',
        egress: 'proxy#1 http://alice:pw-9911@127.0.0.1:9/',
      }),
      new HttpError('401 for https://x/v1?api_key=my-coinalyze-key-123', {
        venue: 'coinalyze',
        endpoint: '/ohlcv-history',
        status: 401,
      }),
      new StorageError('connect postgres://app:dbpass@db:5432/x refused'),
    ];
    for (const e of errors) {
      expect(e.message).not.toMatch(/pw-9911|my-coinalyze-key-123|dbpass/);
      expect(JSON.stringify(e.meta)).not.toMatch(/pw-9911|my-coinalyze-key-123|dbpass/);
    }
  });
});

describe('errors', () => {
  it('default: literal names, codes and meta lines', () => {
    const e = new RateLimitError('Rate limited', {
      venue: 'okx',
      endpoint: '/api/v5/market/history-candles',
      status: 429,
      retryAt: 0,
    });
    expect(e.name).toBe('RateLimitError');
    expect(e.code).toBe('RATE_LIMITED');
    expect(e.message).toContain('Venue: okx');
    expect(e.message).toContain('Status: 429');
    expect(e).toBeInstanceOf(HttpError);
    expect(new RateLimitError('ban', { venue: 'binance', endpoint: '/', banned: true }).code).toBe('BANNED');
    expect(
      new ValidationError(
        { venue: 'bybit', endpoint: '/v5/market/kline' },
        [{ path: ['list', 0], message: 'bad' }],
        { x: 'y'.repeat(500) },
      ).sample.length,
    ).toBeLessThanOrEqual(201);
  });

  it('default: the retry classification, per status', () => {
    const http = (status: number) => new HttpError('x', { venue: 'binance', endpoint: '/', status });
    expect(classifyError(http(500))).toBe('retry');
    expect(classifyError(http(503))).toBe('retry');
    expect(classifyError(http(408))).toBe('retry');
    expect(classifyError(http(400))).toBe('fail');
    expect(classifyError(http(404))).toBe('fail');
    expect(classifyError(new RateLimitError('x', { venue: 'binance', endpoint: '/', status: 429 }))).toBe(
      'retry',
    );
    expect(
      classifyError(new RateLimitError('x', { venue: 'binance', endpoint: '/', status: 418, banned: true })),
    ).toBe('failover');
    expect(classifyError(new NetworkError('x', { venue: 'binance', endpoint: '/' }))).toBe('retry');
    expect(classifyError(new NetworkError('x', { venue: 'binance', endpoint: '/', timeout: true }))).toBe(
      'retry',
    );
    expect(classifyError(new UnknownSymbolError('X', { venue: 'binance', endpoint: '/' }))).toBe('fail');
    expect(classifyError(new ValidationError({ venue: 'binance', endpoint: '/' }, [], {}))).toBe('fail');
    expect(classifyError(new DOMException('aborted', 'AbortError'))).toBe('fail');
    expect(classifyError(new TypeError('fetch failed'))).toBe('fail');
  });
});

describe('intervals and time', () => {
  it('default: floor, ceil, add, count on the UTC grid; weeks start on Monday', () => {
    const t = Date.UTC(2024, 0, 3, 10, 7, 31);
    expect(floorToInterval(t, '5m')).toBe(Date.UTC(2024, 0, 3, 10, 5));
    expect(ceilToInterval(t, '1h')).toBe(Date.UTC(2024, 0, 3, 11));
    expect(floorToInterval(t, '1w')).toBe(Date.UTC(2024, 0, 1)); // a Monday
    expect(floorToInterval(t, '1M')).toBe(Date.UTC(2024, 0, 1));
    expect(addInterval(Date.UTC(2024, 0, 31), '1M')).toBe(Date.UTC(2024, 1, 29));
    expect(countPeriods(0, 3_600_000, '1m')).toBe(60);
    expect(countPeriods(Date.UTC(2024, 0, 15), Date.UTC(2024, 3, 1), '1M')).toBe(2);
    expect(isAligned(Date.UTC(2024, 0, 1, 8), '8h')).toBe(true);
    expect(intervalMs('4h')).toBe(14_400_000);
    expect(() => intervalMs('1M')).toThrow(InvalidArgumentError);
  });

  it('error: bad ranges, seconds instead of milliseconds, and unparsable times', () => {
    expect(toEpochMs('2024-06-01')).toBe(1717200000000);
    expect(toEpochMs('2024-06-01T12:00')).toBe(Date.UTC(2024, 5, 1, 12));
    expect(() => toRange('2024-06-02', '2024-06-01')).toThrow(/from must be before to/);
    expect(() => toEpochMs(1717200000)).toThrow(/looks like seconds/);
    expect(() => toEpochMs('yesterday')).toThrow(InvalidArgumentError);
    expect(() => toEpochMs(Number.NaN)).toThrow(InvalidArgumentError);
  });
});

describe('symbols and numbers', () => {
  it('default: multiplier prefixes and suffixes; coins whose digits are their name stay whole', () => {
    expect(splitMultiplier('1000PEPE')).toEqual({ symbol: 'PEPE', multiplier: 1000 });
    expect(splitMultiplier('1MBABYDOGE')).toEqual({ symbol: 'BABYDOGE', multiplier: 1_000_000 });
    expect(splitMultiplier('1000000MOG')).toEqual({ symbol: 'MOG', multiplier: 1_000_000 });
    expect(splitMultiplier('SHIB1000')).toEqual({ symbol: 'SHIB', multiplier: 1000 });
    for (const coin of ['1INCH', '0G', '2Z', '4', 'BTC'])
      expect(splitMultiplier(coin)).toEqual({ symbol: coin, multiplier: 1 });
  });

  it('behavior: the registry maps both ways and names unknown symbols', () => {
    const r = new SymbolRegistry([
      { exchange: 'bybit', instrument: 'SHIB1000USDT', symbol: 'SHIB', quote: 'USDT', multiplier: 1000 },
    ]);
    expect(r.toInstrument('bybit', 'shib').instrument).toBe('SHIB1000USDT');
    expect(r.fromInstrument('bybit', 'SHIB1000USDT').symbol).toBe('SHIB');
    expect(() => r.toInstrument('binance', 'SHIB')).toThrow(UnknownSymbolError);
    expect(
      r
        .with([{ exchange: 'binance', instrument: 'BTCUSDT', symbol: 'BTC', quote: 'USDT', multiplier: 1 }])
        .list(),
    ).toHaveLength(2);
  });

  it('error: num refuses blanks; numOrUndefined maps them to undefined', () => {
    expect(num('1.5')).toBe(1.5);
    expect(() => num('')).toThrow(TypeError);
    expect(() => num(' ')).toThrow(TypeError);
    expect(() => num('abc', 'price')).toThrow(/price/);
    expect(numOrUndefined('')).toBeUndefined();
    expect(numOrUndefined(null)).toBeUndefined();
    expect(numOrUndefined('0')).toBe(0);
  });
});
