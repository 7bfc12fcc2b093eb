// How values look: metric paths to labels and units, numbers, "12 s ago", device status.

const UNITS = {
  c: '°C', f: '°F', hpa: 'hPa', rh: '%', lux: 'lx', ppm: 'ppm', ppb: 'ppb',
  total_mb: 'MB', used_mb: 'MB', free_mb: 'MB', pct: '%', percent: '%',
};

export function unitOf(metric) {
  const last = metric.split('.').pop();
  return UNITS[last] || '';
}

export function labelOf(metric) {
  const parts = metric.split('.');
  if (parts.length > 1 && UNITS[parts[parts.length - 1]]) parts.pop();
  return parts.join(' ').replaceAll('_', ' ');
}

// One formatter per number of digits: toLocaleString with options builds a new one on every
// call, and that was 85 % of the devices page's script time with 200 devices reporting every
// second (a 100 ms task per second, measured with the CPU profiler).
const numberFormats = new Map();

export function number(value, digits = 1) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  const d = abs >= 1000 ? 0 : abs >= 100 ? Math.min(digits, 1) : digits;
  if (!numberFormats.has(d)) {
    numberFormats.set(d, new Intl.NumberFormat(undefined, { minimumFractionDigits: d, maximumFractionDigits: d }));
  }
  return numberFormats.get(d).format(value);
}

export function withUnit(value, metric) {
  const unit = unitOf(metric);
  return unit ? `${number(value)} ${unit}` : number(value, 2);
}

// Numeric leaves of a payload by path, and the sensors that reported an error.
export function flatten(payload) {
  const values = new Map();
  const errors = [];
  const walk = (node, path) => {
    for (const [key, value] of Object.entries(node || {})) {
      const here = path ? `${path}.${key}` : key;
      if (typeof value === 'number') values.set(here, value);
      else if (value && typeof value === 'object') {
        if (!path && typeof value.error === 'string') errors.push({ sensor: key, message: value.error });
        else walk(value, here);
      }
    }
  };
  walk(payload, '');
  return { values, errors };
}

// A metric the charts show: °F next to a °C and the disk's raw sizes are derived views.
export function shownMetric(metric, all) {
  if (metric.endsWith('.f') && all.has(`${metric.slice(0, -2)}.c`)) return false;
  return true;
}

// The few values a card shows: {label, text, title}.
export function cardValues(values) {
  const out = [];
  for (const [metric, value] of values) {
    if (!shownMetric(metric, values)) continue;
    if (/(^|\.)(total_mb|free_mb)$/.test(metric)) continue;
    if (metric.endsWith('.used_mb')) {
      const total = values.get(metric.replace(/used_mb$/, 'total_mb'));
      if (total > 0) {
        out.push({ label: `${labelOf(metric)} used`, text: `${number((100 * value) / total)} %`,
          title: `${number(value, 0)} of ${number(total, 0)} MB` });
        continue;
      }
    }
    let title = '';
    if (metric.endsWith('.c')) {
      const f = values.get(`${metric.slice(0, -2)}.f`) ?? (value * 9) / 5 + 32;
      title = `${number(f)} °F`;
    }
    out.push({ label: labelOf(metric), text: withUnit(value, metric), title });
  }
  return out;
}

export function mainMetric(metrics) {
  if (metrics.includes('bme280.temperature.c')) return 'bme280.temperature.c';
  const shown = new Set(metrics);
  return metrics.find((m) => shownMetric(m, shown)) || metrics[0];
}

export function ago(ms) {
  if (!Number.isFinite(ms)) return 'never';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} d ago`;
}

// online / late / offline from the device's own interval: offline after 3 missed intervals.
export function status(ageMs, intervalMs) {
  const interval = Math.max(1000, intervalMs || 60000);
  if (ageMs > 3 * interval + 2000) return 'offline';
  if (ageMs > 1.5 * interval + 1000) return 'late';
  return 'online';
}

let dateTimeFormat;  // made once, like numberFormats

export function dateTime(ms) {
  dateTimeFormat = dateTimeFormat || new Intl.DateTimeFormat(undefined, {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  return dateTimeFormat.format(new Date(ms));
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null) node.append(child);
  }
  return node;
}

export function timeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}
