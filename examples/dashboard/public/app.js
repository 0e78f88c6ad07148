// The dashboard page: plain browser JavaScript (an ES module, no build step) over the JSON API of
// examples/dashboard/server.ts. The chart library is loaded on demand from /vendor/, so the page works
// (without the chart) when it is missing.

const STATUS_EVERY_MS = 5_000;
const SERIES_EVERY_MS = 15_000;
const CHART_ROWS = 1_000;
const SVG = 'http://www.w3.org/2000/svg';
const KIND_ORDER = [
  'candles',
  'funding',
  'predictedFunding',
  'openInterest',
  'longShortRatio',
  'takerVolume',
  'liquidations',
  'indicators',
];
/** The value fields of each kind, in table order (the API returns them with `ts`). */
const FIELDS = {
  candles: ['open', 'high', 'low', 'close', 'volume', 'quoteVolume', 'trades', 'takerBuyVolume'],
  funding: ['rate', 'markPrice'],
  predictedFunding: ['rate', 'nextFundingTime'],
  openInterest: ['openInterest', 'openInterestUsd'],
  longShortRatio: ['ratio', 'longShare', 'shortShare'],
  takerVolume: ['buyVolume', 'sellVolume'],
  liquidations: ['longUsd', 'shortUsd'],
  indicators: ['value'],
};
const TIME_FIELDS = new Set(['ts', 'nextFundingTime']);

const $ = (id) => document.getElementById(id);

/** An element with attributes (`class`, `data-*`, `title`, …) and children (nodes or text). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs))
    if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c ?? '')));
  return el;
}

const pad = (n) => String(n).padStart(2, '0');
/** `2024-06-01 12:34` (UTC). */
function time(ms) {
  if (ms === null || ms === undefined) return '–';
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}
/** `45s`, `12m`, `3h 5m`, `2d 4h`. */
function span(ms) {
  if (ms === null || ms === undefined) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours}h${m % 60 ? ` ${m % 60}m` : ''}`;
  return `${Math.floor(hours / 24)}d${hours % 24 ? ` ${hours % 24}h` : ''}`;
}
const num = (v) =>
  v === null || v === undefined ? '' : Number(v).toLocaleString('en-US', { maximumFractionDigits: 8 });
const count = (v) => Number(v).toLocaleString('en-US');

/** Length of an interval like `1m`, `4h`, `1d`; funding has no interval but settles every 8 h. */
function periodOf(s) {
  const m = /^(\d+)([mhdw])$/.exec(s.interval);
  if (m) return Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2]];
  return s.kind === 'funding' ? 8 * 3_600_000 : null;
}

/** Whether a series is further behind than twice its period (and a minute). */
const isLate = (s) => s.lagMs !== null && periodOf(s) !== null && s.lagMs > 2 * periodOf(s) + 60_000;

async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.message ?? `${res.status} ${res.statusText}`);
  return body;
}

// ---------------------------------------------------------------------------------------------------
// State

const state = {
  series: [],
  now: 0,
  /** The picker: kind, venue (`source` or `source/exchange`), symbol, interval, variant. */
  sel: { kind: 'candles', venue: '', symbol: 'BTC', interval: '', variant: '' },
  /** Keyset pagination: the cursor of the page shown (undefined: newest), the ones before it, the next. */
  cursor: undefined,
  cursors: [],
  offset: 0,
  next: null,
  pageSize: 50,
  tableToken: 0,
  chartToken: 0,
  chart: undefined,
  chartKey: '',
  lib: undefined,
};

const venueOf = (s) => (s.source === s.exchange ? s.source : `${s.source}/${s.exchange}`);
const keyOf = (s) => [s.kind, s.source, s.exchange, s.symbol, s.interval, s.variant].join('|');
const unique = (values) => [...new Set(values)];

/** The series the picker points at. */
function current() {
  const { kind, venue, symbol, interval, variant } = state.sel;
  return state.series.find(
    (s) =>
      s.kind === kind &&
      venueOf(s) === venue &&
      s.symbol === symbol &&
      s.interval === interval &&
      s.variant === variant,
  );
}

/** The API's series parameters of `s`. */
function seriesParams(s) {
  const q = new URLSearchParams({ exchange: s.exchange, symbol: s.symbol });
  if (s.source !== s.exchange) q.set('source', s.source);
  if (s.interval) q.set('interval', s.interval);
  if (s.variant) q.set('variant', s.variant);
  return q;
}

// ---------------------------------------------------------------------------------------------------
// Status box and errors

async function refreshStatus() {
  const [health, status] = await Promise.allSettled([getJson('/health'), getJson('/api/status?limit=100')]);
  const box = $('status');
  const db = $('status-db');
  const message = $('status-message');
  if (health.status === 'fulfilled' && health.value.database === 'up') {
    const hv = health.value;
    db.textContent = `database up · schema ${hv.schema} · v${hv.schemaVersion}`;
    db.className = `pill ${hv.ok ? 'ok' : 'bad'}`;
    message.hidden = hv.ok;
    message.textContent = hv.message ?? '';
    box.dataset.state = hv.ok ? 'ok' : 'incomplete';
  } else {
    db.textContent = 'database down';
    db.className = 'pill bad';
    message.hidden = false;
    message.textContent =
      health.status === 'rejected' ? `dashboard unreachable: ${health.reason.message}` : health.value.message;
    box.dataset.state = 'down';
  }
  if (status.status !== 'fulfilled') return;
  const st = status.value;
  state.now = st.now;
  const jobs = $('status-jobs');
  jobs.replaceChildren(
    ...(st.jobs.length === 0
      ? [h('span', { class: 'muted' }, 'no jobs yet')]
      : st.jobs.map((j) =>
          h(
            'span',
            { class: 'job', 'data-job': j.job, 'data-status': j.status, title: j.message ?? '' },
            `${j.job}: `,
            h('b', {}, j.status),
            j.progress !== null && j.status === 'running' ? ` ${Math.round(j.progress * 100)}%` : '',
          ),
        )),
  );
  const counts = Object.entries(st.counts)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  $('status-counts').textContent = counts ? `status rows: ${counts}` : '';
  const errorsPill = $('status-errors');
  errorsPill.textContent = `${st.errors.length}${st.errors.length >= 100 ? '+' : ''} error${st.errors.length === 1 ? '' : 's'}`;
  errorsPill.className = `pill ${st.errors.length ? 'bad' : 'ok'}`;
  $('status-clock').textContent =
    `${time(st.now)} UTC${st.mode === 'simulated' ? ` (simulated, ${st.speed}×)` : ''}`;
  box.dataset.updated = String(st.now);

  const table = $('errors');
  $('errors-empty').hidden = st.errors.length > 0;
  table.hidden = st.errors.length === 0;
  table.tBodies[0].replaceChildren(
    ...st.errors
      .slice(0, 50)
      .map((e) =>
        h(
          'tr',
          {},
          h('td', {}, time(e.ts)),
          h('td', {}, e.job),
          h('td', {}, e.series),
          h('td', {}, e.code ?? ''),
          h('td', { class: 'message', title: e.message }, e.message.split('\n')[0]),
        ),
      ),
  );
}

// ---------------------------------------------------------------------------------------------------
// Coverage strips

/** Draws the ledger of `s` into `el`: stored and empty intervals, holes between them (missing). */
function drawStrip(el, s) {
  const { from, to, intervals, holes } = s.coverage;
  el.replaceChildren();
  el.classList.toggle('none', from === null);
  if (from === null || to <= from) {
    el.title = 'no coverage ledger for this series';
    return;
  }
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 1000 10');
  svg.setAttribute('preserveAspectRatio', 'none');
  const x = (t) => ((t - from) / (to - from)) * 1000;
  const rect = (iv, state, min) => {
    const r = document.createElementNS(SVG, 'rect');
    const left = x(iv.from);
    const width = Math.max(x(iv.to) - left, min);
    r.setAttribute('x', String(Math.min(left, 1000 - width)));
    r.setAttribute('width', String(width));
    r.setAttribute('y', '0');
    r.setAttribute('height', '10');
    r.setAttribute('class', state);
    r.dataset.state = state;
    const title = document.createElementNS(SVG, 'title');
    title.textContent = `${state}${iv.reason ? ` (${iv.reason})` : ''}: ${time(iv.from)} → ${time(iv.to)} (${span(iv.to - iv.from)})`;
    r.append(title);
    svg.append(r);
  };
  for (const iv of intervals) rect(iv, iv.state, 0.3);
  // Holes at least a few units wide, so that a short one still shows.
  for (const iv of holes) rect(iv, 'missing', 3);
  el.append(svg);
  el.title = `${time(from)} → ${time(to)}: ${span(s.coverage.storedMs)} stored, ${span(s.coverage.emptyMs)} empty, ${span(s.coverage.missingMs)} missing in ${holes.length} hole${holes.length === 1 ? '' : 's'}`;
  el.dataset.holes = String(holes.length);
}

// ---------------------------------------------------------------------------------------------------
// The picker and the series list

/** Fills `select` with `values`, keeps `value` when it is one of them, else the first; returns it. */
function fill(select, values, value, labels = (v) => v) {
  const chosen = values.includes(value) ? value : values[0];
  const same =
    select.options.length === values.length && values.every((v, i) => select.options[i].value === v);
  if (!same) select.replaceChildren(...values.map((v) => h('option', { value: v }, labels(v) || '–')));
  select.value = chosen ?? '';
  select.disabled = values.length <= 1 && (values[0] ?? '') === '';
  return chosen ?? '';
}

const bySymbol = (a, b) =>
  (a === 'MT') - (b === 'MT') || (a === 'BTC' ? -1 : b === 'BTC' ? 1 : a.localeCompare(b));

function syncPicker() {
  const sel = state.sel;
  const kinds = KIND_ORDER.filter((k) => state.series.some((s) => s.kind === k));
  sel.kind = fill($('pick-kind'), kinds, sel.kind);
  let list = state.series.filter((s) => s.kind === sel.kind);
  sel.venue = fill($('pick-venue'), unique(list.map(venueOf)).sort(), sel.venue);
  list = list.filter((s) => venueOf(s) === sel.venue);
  sel.symbol = fill($('pick-symbol'), unique(list.map((s) => s.symbol)).sort(bySymbol), sel.symbol);
  list = list.filter((s) => s.symbol === sel.symbol);
  const intervals = unique(list.map((s) => s.interval)).sort(
    (a, b) => (periodOf({ interval: a }) ?? 0) - (periodOf({ interval: b }) ?? 0),
  );
  sel.interval = fill($('pick-interval'), intervals, sel.interval);
  list = list.filter((s) => s.interval === sel.interval);
  const variants = unique(list.map((s) => s.variant)).sort();
  sel.variant = fill($('pick-variant'), variants, sel.variant);
  $('pick-variant-label').hidden = variants.length === 1 && variants[0] === '';
  location.replace(`#${new URLSearchParams(sel)}`);
}

function renderSelected() {
  const s = current();
  const facts = $('selected-facts');
  const strip = $('selected-strip');
  if (!s) {
    facts.replaceChildren(h('span', { class: 'muted' }, 'No series stored yet.'));
    strip.replaceChildren();
    strip.classList.add('none');
    return;
  }
  const late = isLate(s);
  facts.replaceChildren(
    h('span', {}, h('b', {}, count(s.rows)), ' rows'),
    h('span', {}, 'first ', h('b', {}, time(s.first))),
    h('span', {}, 'last ', h('b', {}, time(s.last))),
    h('span', {}, 'stored to ', h('b', {}, time(s.end))),
    h('span', { class: late ? 'lag-late' : '' }, 'lag ', h('b', { id: 'selected-lag' }, span(s.lagMs))),
    h('span', {}, h('b', { id: 'selected-holes' }, s.coverage.holes.length), ' holes'),
    h(
      'span',
      {},
      `${span(s.coverage.storedMs)} stored, ${span(s.coverage.emptyMs)} empty, ${span(s.coverage.missingMs)} missing`,
    ),
  );
  strip.dataset.series = keyOf(s);
  drawStrip(strip, s);
}

function renderSeriesList() {
  const selected = current();
  const body = $('series').tBodies[0];
  body.replaceChildren(
    ...state.series.map((s) => {
      const late = isLate(s);
      const strip = h('div', { class: 'strip', 'data-series': keyOf(s) });
      drawStrip(strip, s);
      const row = h(
        'tr',
        { 'data-series': keyOf(s), class: s === selected ? 'current' : undefined },
        h('td', {}, s.kind),
        h('td', {}, venueOf(s)),
        h('td', {}, s.symbol),
        h('td', {}, s.interval || '–'),
        h('td', {}, s.variant || '–'),
        h('td', {}, count(s.rows)),
        h('td', {}, time(s.first)),
        h('td', {}, time(s.last)),
        h('td', { class: late ? 'lag-late' : undefined }, span(s.lagMs)),
        h('td', {}, s.coverage.holes.length),
        h('td', { class: 'strip-col' }, strip),
      );
      row.addEventListener('click', () => {
        state.sel = {
          kind: s.kind,
          venue: venueOf(s),
          symbol: s.symbol,
          interval: s.interval,
          variant: s.variant,
        };
        selectionChanged();
        $('picker-section').scrollIntoView({ behavior: 'smooth' });
      });
      return row;
    }),
  );
}

async function refreshSeries() {
  const body = await getJson('/api/series');
  state.series = body.series;
  state.now = body.now;
  syncPicker();
  renderSelected();
  renderSeriesList();
  document.body.dataset.series = String(state.series.length);
  const late = state.series.filter(isLate).length;
  const pill = $('status-series');
  pill.textContent = `${count(state.series.length)} series${late ? `, ${late} behind` : ''}`;
  pill.className = `pill ${late ? 'bad' : 'ok'}`;
  pill.title = 'series whose lag is over twice their period (plus a minute) count as behind';
}

// ---------------------------------------------------------------------------------------------------
// The table

async function loadTable() {
  const token = ++state.tableToken;
  const s = current();
  const table = $('data');
  const info = $('page-info');
  if (!s) {
    table.tHead.rows[0].replaceChildren();
    table.tBodies[0].replaceChildren();
    info.textContent = '';
    return;
  }
  const q = seriesParams(s);
  q.set('limit', String(state.pageSize));
  q.set('order', 'desc');
  if (state.cursor !== undefined) q.set('cursor', String(state.cursor));
  let page;
  try {
    page = await getJson(`/api/data/${s.kind}?${q}`);
  } catch (error) {
    if (token === state.tableToken) info.textContent = `could not load rows: ${error.message}`;
    return;
  }
  if (token !== state.tableToken) return;
  const fields = FIELDS[s.kind] ?? [];
  table.tHead.rows[0].replaceChildren(h('th', {}, 'ts (UTC)'), ...fields.map((f) => h('th', {}, f)));
  table.tBodies[0].replaceChildren(
    ...page.rows.map((r) =>
      h(
        'tr',
        { 'data-ts': r.ts },
        h('td', {}, time(r.ts)),
        ...fields.map((f) => h('td', {}, TIME_FIELDS.has(f) && r[f] !== null ? time(r[f]) : num(r[f]))),
      ),
    ),
  );
  state.next = page.next;
  const first = page.rows.length ? state.offset + 1 : 0;
  info.textContent = `rows ${count(first)}–${count(state.offset + page.rows.length)} of ${count(page.total)}, newest first`;
  table.dataset.kind = s.kind;
  table.dataset.series = keyOf(s);
  table.dataset.rows = String(page.rows.length);
  table.dataset.total = String(page.total);
  table.dataset.offset = String(state.offset);
  $('page-older').disabled = !page.next;
  $('page-newer').disabled = state.cursors.length === 0;
  $('page-newest').disabled = state.cursors.length === 0;
}

function resetPages() {
  state.cursor = undefined;
  state.cursors = [];
  state.offset = 0;
  state.next = null;
}

// ---------------------------------------------------------------------------------------------------
// The chart: candles with RSI 14 in a pane below; other kinds as a line of their first value

async function chartLibrary() {
  if (state.lib === undefined) state.lib = await import('/vendor/lightweight-charts.mjs').catch(() => null);
  return state.lib;
}

async function loadChart(force) {
  const s = current();
  const el = $('chart');
  const note = $('chart-note');
  const key = s ? keyOf(s) : '';
  if (!force && key === state.chartKey && state.chart) return updateChart(s);
  const token = ++state.chartToken;
  state.chart?.chart.remove();
  state.chart = undefined;
  state.chartKey = key;
  el.dataset.ready = 'false';
  if (!s) {
    note.textContent = 'Nothing to draw yet.';
    return;
  }
  const lw = await chartLibrary();
  if (!lw) {
    note.textContent = 'The chart library (lightweight-charts) is not installed: run npm install.';
    return;
  }
  if (token !== state.chartToken) return;
  const chart = lw.createChart(el, {
    autoSize: true,
    layout: { background: { color: '#ffffff' }, textColor: '#1d232b', panes: { separatorColor: '#dde1e6' } },
    grid: { vertLines: { color: '#f0f2f5' }, horzLines: { color: '#f0f2f5' } },
    timeScale: { timeVisible: true, secondsVisible: false },
    localization: { timeFormatter: (t) => time(t * 1000) },
  });
  const entry = { chart, main: undefined, rsi: undefined, field: undefined };
  if (s.kind === 'candles') {
    entry.main = chart.addSeries(lw.CandlestickSeries, {
      upColor: '#2e9d5b',
      downColor: '#d9453b',
      wickUpColor: '#2e9d5b',
      wickDownColor: '#d9453b',
      borderVisible: false,
    });
    const rsiKey = { ...s, kind: 'indicators', variant: 'rsi14' };
    if (state.series.some((x) => keyOf(x) === keyOf(rsiKey))) {
      entry.rsi = chart.addSeries(
        lw.LineSeries,
        {
          color: '#7e57c2',
          lineWidth: 2,
          priceFormat: { type: 'price', precision: 1, minMove: 0.1 },
          autoscaleInfoProvider: () => ({ priceRange: { minValue: 0, maxValue: 100 } }),
        },
        1,
      );
      entry.rsi.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.08 } });
      entry.rsi.createPriceLine({ price: 70, color: '#d9453b', lineWidth: 1, lineStyle: 2, title: '70' });
      entry.rsi.createPriceLine({ price: 30, color: '#2e9d5b', lineWidth: 1, lineStyle: 2, title: '30' });
      entry.rsiKey = rsiKey;
    }
  } else {
    entry.field = (FIELDS[s.kind] ?? ['value'])[0];
    entry.main = chart.addSeries(lw.LineSeries, { color: '#2962ff', lineWidth: 2 });
  }
  state.chart = entry;
  await updateChart(s, true);
}

/** The newest `CHART_ROWS` rows of `s`, oldest first. */
async function chartRows(s) {
  const q = seriesParams(s);
  q.set('limit', String(CHART_ROWS));
  q.set('order', 'desc');
  return (await getJson(`/api/data/${s.kind}?${q}`)).rows.reverse();
}

async function updateChart(s, fit = false) {
  const entry = state.chart;
  if (!entry || !s) return;
  const token = state.chartToken;
  const el = $('chart');
  const note = $('chart-note');
  try {
    const [rows, rsi] = await Promise.all([chartRows(s), entry.rsiKey ? chartRows(entry.rsiKey) : []]);
    if (token !== state.chartToken) return;
    const time0 = rows[0]?.ts ?? 0;
    if (s.kind === 'candles') {
      entry.main.setData(
        rows.map((r) => ({ time: r.ts / 1000, open: r.open, high: r.high, low: r.low, close: r.close })),
      );
      entry.rsi?.setData(
        rsi.filter((r) => r.ts >= time0).map((r) => ({ time: r.ts / 1000, value: r.value })),
      );
      note.textContent = entry.rsi
        ? `${s.symbol} ${s.interval} on ${venueOf(s)}: the newest ${count(rows.length)} candles, RSI 14 below (${count(rsi.length)} values)`
        : `${s.symbol} ${s.interval} on ${venueOf(s)}: the newest ${count(rows.length)} candles (no rsi14 stored for this series)`;
    } else {
      entry.main.setData(
        rows
          .filter((r) => r[entry.field] !== null)
          .map((r) => ({ time: r.ts / 1000, value: r[entry.field] })),
      );
      note.textContent = `${s.kind} ${entry.field} of ${s.symbol} on ${venueOf(s)}: the newest ${count(rows.length)} rows`;
    }
    // RSI gets a quarter of the height (a pane's height is known once it holds data).
    if (entry.rsi) entry.chart.panes()[1]?.setHeight(Math.round(el.clientHeight / 4));
    if (fit) entry.chart.timeScale().fitContent();
    el.dataset.kind = s.kind;
    el.dataset.series = keyOf(s);
    el.dataset.rows = String(rows.length);
    el.dataset.rsi = String(entry.rsi ? rsi.length : 0);
    el.dataset.ready = 'true';
  } catch (error) {
    note.textContent = `could not load the chart: ${error.message}`;
  }
}

// ---------------------------------------------------------------------------------------------------
// Wiring

function selectionChanged() {
  syncPicker();
  renderSelected();
  renderSeriesList();
  resetPages();
  loadTable();
  loadChart(false);
}

function readHash() {
  const q = new URLSearchParams(location.hash.slice(1));
  for (const k of Object.keys(state.sel)) if (q.has(k)) state.sel[k] = q.get(k);
}

async function refreshAll() {
  try {
    await refreshSeries();
  } catch (error) {
    $('chart-note').textContent = `could not load the series: ${error.message}`;
    return;
  }
  // Follow new rows while the newest page is shown; an older page stays where it is.
  if (state.cursor === undefined) loadTable();
  loadChart(false);
}

function start() {
  readHash();
  for (const [id, field] of [
    ['pick-kind', 'kind'],
    ['pick-venue', 'venue'],
    ['pick-symbol', 'symbol'],
    ['pick-interval', 'interval'],
    ['pick-variant', 'variant'],
  ])
    $(id).addEventListener('change', (e) => {
      state.sel[field] = e.target.value;
      selectionChanged();
    });
  $('refresh').addEventListener('click', () => {
    refreshStatus();
    refreshAll();
  });
  $('page-older').addEventListener('click', () => {
    if (!state.next) return;
    state.cursors.push(state.cursor);
    state.cursor = state.next.cursor;
    state.offset += state.pageSize;
    loadTable();
  });
  $('page-newer').addEventListener('click', () => {
    if (state.cursors.length === 0) return;
    state.cursor = state.cursors.pop();
    state.offset = Math.max(0, state.offset - state.pageSize);
    loadTable();
  });
  $('page-newest').addEventListener('click', () => {
    resetPages();
    loadTable();
  });
  $('page-size').addEventListener('change', (e) => {
    state.pageSize = Number(e.target.value);
    resetPages();
    loadTable();
  });
  refreshStatus();
  setInterval(refreshStatus, STATUS_EVERY_MS);
  refreshAll();
  setInterval(refreshAll, SERIES_EVERY_MS);
}

start();
