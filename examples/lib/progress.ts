/**
 * Backfill progress for the examples: a bar per venue on a TTY (cli-progress), plain lines every 5 s
 * otherwise, and a line per finished series.
 */
import cliProgress from 'cli-progress';
import type { SeriesReport } from '../../src/index.js';
import { fmt, plural, seconds } from './format.js';

/** Derived series can report a range they do not know yet (NaN): counted as nothing done of nothing. */
const finite = (done: number, total: number, rows: number) =>
  Number.isFinite(done) && Number.isFinite(total) ? { done, total, rows } : { done: 0, total: 0, rows };

export interface Progress {
  /** A line that must not break the bars. */
  log(line: string): void;
  update(venue: string, id: string, done: number, total: number, rows: number): void;
  finished(report: SeriesReport): void;
  stop(): void;
}

export function createProgress(venues: readonly string[], tty: boolean): Progress {
  const series = new Map<string, Map<string, { done: number; total: number; rows: number; over: boolean }>>();
  for (const v of venues) series.set(v, new Map());
  const totals = (venue: string) => {
    let done = 0;
    let total = 0;
    let rows = 0;
    let over = 0;
    const all = series.get(venue) ?? new Map();
    for (const s of all.values()) {
      done += s.done;
      total += s.total;
      rows += s.rows;
      if (s.over) over++;
    }
    return { permille: total > 0 ? Math.floor((1000 * done) / total) : 0, rows, over, known: all.size };
  };
  const entry = (venue: string, id: string) => {
    let perVenue = series.get(venue);
    if (!perVenue) {
      perVenue = new Map();
      series.set(venue, perVenue);
    }
    let e = perVenue.get(id);
    if (!e) {
      e = { done: 0, total: 0, rows: 0, over: false };
      perVenue.set(id, e);
    }
    return e;
  };

  if (tty) {
    const multibar = new cliProgress.MultiBar(
      {
        format: ' {venue} |{bar}| {percentage}% | {over}/{known} series | {rows} rows | {duration_formatted}',
        hideCursor: true,
        clearOnComplete: false,
        autopadding: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    const width = Math.max(...venues.map((v) => v.length));
    const bars = new Map(
      venues.map((v) => [
        v,
        multibar.create(1000, 0, { venue: v.padEnd(width), over: 0, known: 0, rows: '0' }),
      ]),
    );
    const redraw = (venue: string) => {
      const t = totals(venue);
      bars.get(venue)?.update(t.permille, { over: t.over, known: t.known, rows: fmt(t.rows) });
    };
    return {
      log: (line) => multibar.log(`${line}\n`),
      update(venue, id, done, total, rows) {
        Object.assign(entry(venue, id), finite(done, total, rows));
        redraw(venue);
      },
      finished(report) {
        const venue = report.key.source;
        const span = Number.isFinite(report.to - report.from) ? Math.max(1, report.to - report.from) : 1;
        Object.assign(entry(venue, report.id), {
          done: span,
          total: span,
          rows: report.rowsFetched,
          over: true,
        });
        redraw(venue);
      },
      stop: () => multibar.stop(),
    };
  }

  const started = Date.now();
  const timer = setInterval(() => {
    const parts = [...series.keys()].map((v) => {
      const t = totals(v);
      return `${v} ${(t.permille / 10).toFixed(1)}% (${t.over}/${t.known} series, ${fmt(t.rows)} rows)`;
    });
    console.log(`[${seconds(Date.now() - started)}] ${parts.join(' | ')}`);
  }, 5_000);
  timer.unref();
  return {
    log: (line) => console.log(line),
    update(venue, id, done, total, rows) {
      Object.assign(entry(venue, id), finite(done, total, rows));
    },
    finished(report) {
      const span = Number.isFinite(report.to - report.from) ? Math.max(1, report.to - report.from) : 1;
      Object.assign(entry(report.key.source, report.id), {
        done: span,
        total: span,
        rows: report.rowsFetched,
        over: true,
      });
      const what =
        report.outcome !== 'done'
          ? `${report.outcome}${report.error ? `: ${report.error.message.split('\n')[0]}` : ''}`
          : report.spansFetched === 0 && report.rowsFetched === 0
            ? 'already complete'
            : report.rowsFetched === 0
              ? 'up to date (nothing new since the last run)'
              : `${plural(report.rowsFetched, 'row')}${report.gaps.length > 0 ? `, ${plural(report.gaps.length, 'hole')}` : ''}`;
      console.log(`${report.outcome === 'done' ? 'done ' : 'skip '} ${report.id}: ${what}`);
    },
    stop: () => clearInterval(timer),
  };
}
