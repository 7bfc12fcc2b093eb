// Charts: Chart.js (Debian's libjs-chart.js, served at /vendor/chart.js) for the device page's
// series, and a plain canvas polyline for the cards' sparklines (200 cards must stay cheap).

import { number, unitOf } from './format.js';

const STEP_MS = { '1m': 60e3, '5m': 300e3, '15m': 900e3, '1h': 3600e3, '6h': 21600e3, '1d': 86400e3 };

export function stepMs(step) {
  return STEP_MS[step] || 60e3;
}

function color(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

// {avg, min, max} point lists with a null after every hole longer than 1.5 steps, so a gap is
// drawn as a gap.
export function seriesData(points, step) {
  const avg = [];
  const min = [];
  const max = [];
  const limit = 1.5 * stepMs(step);
  let last = null;
  for (const p of points) {
    const x = Date.parse(p.t);
    if (last !== null && x - last > limit) {
      avg.push({ x: last + 1, y: null });
      min.push({ x: last + 1, y: null });
      max.push({ x: last + 1, y: null });
    }
    avg.push({ x, y: p.avg });
    min.push({ x, y: p.min });
    max.push({ x, y: p.max });
    last = x;
  }
  return { avg, min, max };
}

function tickFormat(spanMs) {
  const options = spanMs <= 2 * 86400e3
    ? { hour: '2-digit', minute: '2-digit' }
    : spanMs <= 60 * 86400e3 ? { month: 'short', day: 'numeric' } : { year: 'numeric', month: 'short' };
  const format = new Intl.DateTimeFormat(undefined, options);
  return (value) => format.format(new Date(value));
}

export function metricChart(canvas, metric, data, range) {
  const Chart = window.Chart;
  const accent = color('--accent');
  const muted = color('--muted');
  const grid = color('--border');
  const unit = unitOf(metric);
  const common = { pointRadius: 0, pointHitRadius: 6, spanGaps: false, tension: 0 };
  const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  return new Chart(canvas, {
    type: 'line',
    data: {
      datasets: [
        { ...common, label: 'min', data: data.min, borderWidth: 0, fill: false },
        { ...common, label: 'max', data: data.max, borderWidth: 0, fill: '-1', backgroundColor: color('--band') },
        { ...common, label: 'average', data: data.avg, borderWidth: 1.8, borderColor: accent, fill: false },
      ],
    },
    options: {
      animation: false,
      parsing: false,
      normalized: true,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            title: (items) => (items.length ? full.format(new Date(items[0].parsed.x)) : ''),
            label: (item) => `${item.dataset.label}: ${number(item.parsed.y, 2)} ${unit}`,
          },
        },
      },
      scales: {
        x: {
          type: 'linear', min: range.start, max: range.end,
          ticks: { color: muted, maxTicksLimit: 8, callback: tickFormat(range.end - range.start) },
          grid: { color: grid },
        },
        y: { ticks: { color: muted, maxTicksLimit: 6 }, grid: { color: grid } },
      },
    },
  });
}

// A value that arrived live, appended to a chart whose range ends now.
export function appendLive(chart, x, y) {
  const [min, max, avg] = chart.data.datasets;
  for (const set of [min, max, avg]) set.data.push({ x, y });
  chart.options.scales.x.max = Math.max(chart.options.scales.x.max, x);
  chart.update('none');
}

// size: [width, height] in CSS pixels when the caller measured it already (reading every
// canvas's size before drawing any keeps a page of cards from laying out once per canvas).
export function sparkline(canvas, values, size = [canvas.clientWidth, canvas.clientHeight]) {
  const ratio = window.devicePixelRatio || 1;
  const width = size[0] || 260;
  const height = size[1] || 40;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext('2d');
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  const ys = values.filter((p) => Number.isFinite(p.y));
  if (ys.length < 2) return;
  const x0 = ys[0].x;
  const x1 = ys[ys.length - 1].x;
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of ys) {
    lo = Math.min(lo, p.y);
    hi = Math.max(hi, p.y);
  }
  if (hi === lo) hi = lo + 1;
  g.strokeStyle = color('--accent');
  g.lineWidth = 1.5;
  g.beginPath();
  ys.forEach((p, i) => {
    const x = ((p.x - x0) / (x1 - x0 || 1)) * (width - 2) + 1;
    const y = height - 2 - ((p.y - lo) / (hi - lo)) * (height - 4);
    if (i === 0) g.moveTo(x, y);
    else g.lineTo(x, y);
  });
  g.stroke();
}
