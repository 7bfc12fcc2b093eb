// The landing page: one card per device, its values live from the feed, its status from its own
// reading interval, a 24 h sparkline of its main metric.

import { api, query } from './api.js';
import { sparkline } from './charts.js';
import { ago, cardValues, el, flatten, mainMetric, status, timeZone } from './format.js';
import { LiveFeed } from './live.js';

const DAY_MS = 86400e3;

class DeviceCard {
  constructor(id) {
    this.id = id;
    this.lastSeen = NaN;
    this.intervalMs = NaN;
    this.gaps = [];
    this.metric = null;
    this.status = el('span', { class: 'status offline', text: 'offline' });
    this.seen = el('div', { class: 'seen', text: 'no readings yet' });
    this.values = el('ul', { class: 'values' });
    this.errors = el('div');
    this.canvas = el('canvas', { class: 'spark', role: 'img', 'aria-label': 'last 24 hours' });
    this.node = el('a', { class: 'card panel', href: `#/devices/${encodeURIComponent(id)}`, 'data-device': id },
      el('div', { class: 'head' }, el('h2', { text: id }), this.status), this.seen, this.values, this.errors,
      this.canvas);
  }

  // A reading of this device; the interval is the median of the last gaps between readings.
  take(reading) {
    const at = Date.parse(reading.ts_utc);
    if (Number.isFinite(this.lastSeen) && at <= this.lastSeen - 1000) return;  // an older one
    if (Number.isFinite(this.lastSeen) && at > this.lastSeen) {
      this.gaps.push(at - this.lastSeen);
      if (this.gaps.length > 7) this.gaps.shift();
      const sorted = [...this.gaps].sort((a, b) => a - b);
      this.intervalMs = sorted[Math.floor(sorted.length / 2)];
    }
    this.lastSeen = Math.max(at, Number.isFinite(this.lastSeen) ? this.lastSeen : at);
    this.reading = reading;
  }

  render() {
    if (!this.reading) return;
    const { values, errors } = flatten(this.reading.payload);
    this.metric = this.metric || (values.size ? mainMetric([...values.keys()]) : null);
    const shown = cardValues(values);
    // A card gets a reading every few seconds, 200 cards on a page: its list is built once per
    // set of values, and a new reading only changes the text that changed (rebuilding every
    // list made 200-300 ms long tasks with 200 devices reporting every second).
    const labels = shown.map((v) => v.label).join('\n');
    if (labels !== this.labels) {
      this.labels = labels;
      this.valueNodes = shown.map(() => el('span', { class: 'value' }));
      this.values.replaceChildren(...shown.map((v, i) => el('li', {},
        el('span', { class: 'label', text: v.label }), this.valueNodes[i])));
    }
    shown.forEach((v, i) => {
      const node = this.valueNodes[i];
      if (node.textContent !== v.text) node.textContent = v.text;
      const li = node.parentNode;
      if (!v.title) li.removeAttribute('title');
      else if (li.title !== v.title) li.title = v.title;
    });
    const messages = errors.map((e) => `${e.sensor}: ${e.message}`);
    if (messages.join('\n') !== this.messages) {
      this.messages = messages.join('\n');
      this.errors.replaceChildren(...messages.map((text) => el('p', { class: 'sensor-error', text })));
    }
  }

  tick(now) {
    if (!Number.isFinite(this.lastSeen)) return;
    const state = status(now - this.lastSeen, this.intervalMs);
    this.seen.textContent = `last seen ${ago(now - this.lastSeen)}`;
    if (this.status.textContent !== state) {
      this.status.textContent = state;
      this.status.className = `status ${state}`;
    }
  }
}

export function devicesPage(main, { setConn }) {
  const cards = new Map();
  const grid = el('div', { class: 'grid', id: 'devices' });
  const note = el('p', { class: 'muted', text: 'Loading devices…' });
  main.replaceChildren(el('h1', { text: 'Devices' }), note, grid);
  const dirty = new Set();
  let frame = 0;
  let sparkTimer = 0;

  const card = (id) => {
    if (!cards.has(id)) {
      const c = new DeviceCard(id);
      cards.set(id, c);
      const after = [...cards.keys()].sort().indexOf(id);
      grid.insertBefore(c.node, grid.children[after] || null);
      note.hidden = true;
    }
    return cards.get(id);
  };

  const flush = () => {
    frame = 0;
    const now = Date.now();
    for (const c of dirty) {
      c.render();
      c.tick(now);
    }
    dirty.clear();
  };

  // Every card's sparkline (all), else only those of cards that have none yet.
  const drawSparklines = async (all = false) => {
    sparkTimer = 0;
    const byMetric = new Map();
    for (const c of cards.values()) {
      if (!c.metric || (c.sparkDrawn && !all)) continue;
      c.sparkDrawn = true;
      if (!byMetric.has(c.metric)) byMetric.set(c.metric, []);
      byMetric.get(c.metric).push(c.id);
    }
    const end = new Date();
    const start = new Date(end.getTime() - DAY_MS);
    for (const [metric, ids] of byMetric) {
      for (let i = 0; i < ids.length; i += 20) {
        const batch = ids.slice(i, i + 20);
        const q = query({ device_id: batch, metric, start_date: start.toISOString(), end_date: end.toISOString(),
          step: 'auto', points: 96, tz: timeZone() });
        try {
          const answer = await api(`/readings/series?${q}`);
          const drawn = answer.series.filter((s) => cards.has(s.device_id));
          const sizes = drawn.map((s) => {
            const { canvas } = cards.get(s.device_id);
            return [canvas.clientWidth, canvas.clientHeight];
          });
          drawn.forEach((s, i) => sparkline(cards.get(s.device_id).canvas,
            s.points.map((p) => ({ x: Date.parse(p.t), y: p.avg })), sizes[i]));
        } catch {
          // a sparkline is decoration: the card stands without it
        }
      }
    }
  };

  const feed = new LiveFeed({
    onReading: (reading) => {
      const c = card(reading.device_id);
      c.take(reading);
      dirty.add(c);
      if (!frame) frame = requestAnimationFrame(flush);
      if (!c.sparkDrawn && !sparkTimer) sparkTimer = setTimeout(drawSparklines, 400);
    },
    onState: setConn,
  });

  api('/devices').then((devices) => {
    for (const d of devices) {
      const c = card(d.device_id);
      if (d.readings > 1 && !c.gaps.length) {
        c.intervalMs = (Date.parse(d.last_seen) - Date.parse(d.first_seen)) / (d.readings - 1);
      }
      if (!Number.isFinite(c.lastSeen)) c.lastSeen = Date.parse(d.last_seen);
      c.tick(Date.now());
    }
    if (!devices.length && !cards.size) note.textContent = 'No device has sent a reading yet.';
  }).catch((e) => {
    note.hidden = false;
    note.className = 'error';
    note.textContent = e.message;
  });

  const ticker = setInterval(() => {
    const now = Date.now();
    for (const c of cards.values()) c.tick(now);
  }, 1000);
  const refresh = setInterval(() => drawSparklines(true), 5 * 60e3);

  return () => {
    feed.close();
    clearInterval(ticker);
    clearInterval(refresh);
    clearTimeout(sparkTimer);
    cancelAnimationFrame(frame);
  };
}
