// One device: a chart per numeric metric (min–max band, average line, gaps as gaps) over a
// chosen range, the live tail appended, the latest raw readings, CSV download of the range.

import { api, download, query } from './api.js';
import { appendLive, metricChart, seriesData } from './charts.js';
import { ago, cardValues, dateTime, el, flatten, labelOf, shownMetric, timeZone, unitOf } from './format.js';
import { LiveFeed } from './live.js';

// The disk's total and free sizes are near constants: its used size is the chart.
const chartedMetric = (metric) => !/(^|\.)(total_mb|free_mb)$/.test(metric);

const RANGES = [['1h', 3600e3], ['24h', 86400e3], ['7d', 7 * 86400e3], ['30d', 30 * 86400e3],
  ['1y', 365 * 86400e3]];
const TABLE_ROWS = 10;

function localInput(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60e3);
  return d.toISOString().slice(0, 16);
}

class DevicePage {
  constructor(main, id, setConn) {
    this.main = main;
    this.id = id;
    this.charts = new Map();
    this.rangeKey = '24h';
    this.rows = [];
    this.build();
    this.feed = new LiveFeed({ devices: [id], onReading: (r) => this.live(r), onState: setConn });
    // More was missed than the feed replays: the charts are fetched again instead.
    this.feed.onGap = () => this.load();
    this.load();
  }

  build() {
    this.seen = el('p', { class: 'seen', text: '' });
    this.message = el('p', { class: 'muted', role: 'status', text: 'Loading…' });
    this.chartGrid = el('div', { class: 'charts', id: 'charts' });
    this.buttons = RANGES.map(([key]) => el('button', { type: 'button', 'data-range': key,
      'aria-pressed': String(key === this.rangeKey), text: key, onclick: () => this.pick(key) }));
    const now = Date.now();
    this.from = el('input', { type: 'datetime-local', 'aria-label': 'from', value: localInput(now - 86400e3) });
    this.to = el('input', { type: 'datetime-local', 'aria-label': 'to', value: localInput(now) });
    const custom = el('span', { class: 'ranges', hidden: true }, this.from, this.to,
      el('button', { type: 'button', text: 'Show', onclick: () => this.load() }));
    this.custom = custom;
    const customButton = el('button', { type: 'button', 'data-range': 'custom', 'aria-pressed': 'false',
      text: 'custom', onclick: () => this.pick('custom') });
    this.buttons.push(customButton);
    this.table = el('tbody');
    this.tableHead = el('tr');
    this.main.replaceChildren(
      el('p', {}, el('a', { href: '#/', text: '← All devices' })),
      el('h1', { text: this.id }), this.seen,
      el('div', { class: 'toolbar' }, el('div', { class: 'ranges', role: 'group', 'aria-label': 'Range' },
        this.buttons), custom,
      el('button', { type: 'button', id: 'csv', text: 'Download CSV', onclick: () => this.csv() })),
      this.message, this.chartGrid,
      el('h2', { text: 'Latest readings' }),
      el('div', { class: 'table-wrap panel' }, el('table', {}, el('thead', {}, this.tableHead), this.table)));
  }

  pick(key) {
    this.rangeKey = key;
    for (const b of this.buttons) b.setAttribute('aria-pressed', String(b.dataset.range === key));
    this.custom.hidden = key !== 'custom';
    if (key !== 'custom') this.load();
  }

  range() {
    if (this.rangeKey === 'custom') {
      const start = Date.parse(this.from.value);
      const end = Date.parse(this.to.value);
      if (Number.isFinite(start) && Number.isFinite(end) && end > start) return { start, end, relative: false };
      return null;
    }
    const span = RANGES.find(([key]) => key === this.rangeKey)[1];
    const end = Date.now();
    return { start: end - span, end, relative: true };
  }

  async load() {
    const range = this.range();
    if (!range) {
      this.message.textContent = 'Pick a start before the end.';
      return;
    }
    this.shown = range;
    const generation = (this.generation = (this.generation || 0) + 1);
    try {
      if (!this.metrics) {
        const listed = await api(`/devices/${encodeURIComponent(this.id)}/metrics`);
        const all = new Set(listed.map((m) => m.metric));
        this.metrics = listed.map((m) => m.metric).filter((m) => shownMetric(m, all) && chartedMetric(m));
        this.loadTable();
      }
      const series = await this.fetchSeries(range);
      if (generation !== this.generation) return;
      this.draw(series, range);
      this.message.textContent = this.metrics.length ? '' : 'This device has reported no numeric values.';
    } catch (e) {
      if (generation === this.generation) this.message.textContent = e.message;
    }
  }

  // Ten metrics per request (the API's limit), one request after the other: parallel series
  // queries only compete for the same database.
  async fetchSeries(range) {
    const points = Math.max(60, Math.min(400, Math.round(this.chartGrid.clientWidth || 600)));
    const out = [];
    for (let i = 0; i < this.metrics.length; i += 10) {
      const params = { device_id: this.id, metric: this.metrics.slice(i, i + 10),
        start_date: new Date(range.start).toISOString(), end_date: new Date(range.end).toISOString(),
        step: 'auto', points, tz: timeZone() };
      let answer;
      try {
        answer = await api(`/readings/series?${query(params)}`);
      } catch (e) {
        if (e.status !== 422 || params.tz === 'UTC') throw e;
        answer = await api(`/readings/series?${query({ ...params, tz: 'UTC' })}`);
      }
      for (const s of answer.series) out.push({ ...s, step: answer.step });
    }
    return out;
  }

  draw(series, range) {
    for (const chart of this.charts.values()) chart.destroy();
    this.charts.clear();
    const boxes = series.map((s) => {
      const canvas = el('canvas', { role: 'img', 'aria-label': `${labelOf(s.metric)} chart` });
      const unit = unitOf(s.metric);
      const box = el('section', { class: 'panel', 'data-metric': s.metric, 'data-step': s.step,
        'data-points': String(s.points.length) },
      el('h2', { text: `${labelOf(s.metric)}${unit ? ` (${unit})` : ''}` }),
      s.points.length ? el('div', { class: 'chart-box' }, canvas) : el('p', { class: 'muted', text: 'No data in this range.' }));
      return { box, canvas, s };
    });
    this.chartGrid.replaceChildren(...boxes.map((b) => b.box));
    if (!window.Chart) {
      this.message.textContent = 'The chart library is not installed on the server (libjs-chart.js).';
      return;
    }
    for (const { canvas, s } of boxes) {
      if (s.points.length) this.charts.set(s.metric, metricChart(canvas, s.metric, seriesData(s.points, s.step), range));
    }
    // For the browser's performance timeline: data fetched and every chart drawn.
    performance.mark('sensorsys:charts-drawn');
  }

  async loadTable() {
    let latest;
    try {
      latest = await api(`/readings/latest?${query({ device_id: this.id })}`);
    } catch {
      return;  // no reading yet (404): the table stays empty
    }
    const at = Date.parse(latest.ts_utc);
    this.lastSeen = at;
    const q = query({ device_id: this.id, start_date: new Date(at - 180e3).toISOString(),
      end_date: new Date(at + 1000).toISOString(), limit: 100 });
    const rows = await api(`/readings?${q}`).catch(() => [latest]);
    this.rows = rows.slice(-TABLE_ROWS).reverse();
    this.renderTable();
  }

  renderTable() {
    const labels = [];
    const cells = this.rows.map((r) => {
      const values = new Map(cardValues(flatten(r.payload).values).map((v) => [v.label, v.text]));
      for (const key of values.keys()) if (!labels.includes(key)) labels.push(key);
      return { r, values, errors: flatten(r.payload).errors };
    });
    this.tableHead.replaceChildren(el('th', { text: 'time' }), ...labels.map((l) => el('th', { text: l })),
      el('th', { text: 'errors' }));
    this.table.replaceChildren(...cells.map(({ r, values, errors }) => el('tr', {},
      el('td', { text: dateTime(Date.parse(r.ts_utc)) }),
      ...labels.map((l) => el('td', { class: 'num', text: values.get(l) || '' })),
      el('td', { class: 'sensor-error', text: errors.map((e) => `${e.sensor}: ${e.message}`).join('; ') }))));
    this.tick();
  }

  tick() {
    if (Number.isFinite(this.lastSeen)) this.seen.textContent = `last seen ${ago(Date.now() - this.lastSeen)}`;
  }

  live(reading) {
    const at = Date.parse(reading.ts_utc);
    if (!this.rows.some((r) => r.id === reading.id)) {
      this.rows = [reading, ...this.rows].sort((a, b) => Date.parse(b.ts_utc) - Date.parse(a.ts_utc))
        .slice(0, TABLE_ROWS);
      this.lastSeen = Math.max(this.lastSeen || 0, at);
      this.renderTable();
    }
    if (!this.shown || !this.shown.relative || at < this.shown.start) return;
    const { values } = flatten(reading.payload);
    for (const [metric, chart] of this.charts) {
      if (values.has(metric)) appendLive(chart, at, values.get(metric));
    }
  }

  csv() {
    const range = this.shown || this.range();
    if (!range) return;
    const q = query({ format: 'csv', device_id: this.id, start_date: new Date(range.start).toISOString(),
      end_date: new Date(range.end).toISOString(), metric: this.metrics || [] });
    download(`/readings/export?${q}`, `${this.id}.csv`).catch((e) => {
      this.message.textContent = e.message;
    });
  }

  destroy() {
    this.feed.close();
    for (const chart of this.charts.values()) chart.destroy();
  }
}

export function devicePage(main, id, { setConn }) {
  const page = new DevicePage(main, id, setConn);
  const ticker = setInterval(() => page.tick(), 1000);
  return () => {
    clearInterval(ticker);
    page.destroy();
  };
}
