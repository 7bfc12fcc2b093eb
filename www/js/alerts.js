// Alerts: what is firing or pending now and what happened in the last 7 days; admins
// acknowledge. A server without the alerts API (404) says so plainly.

import { api, query, session } from './api.js';
import { dateTime, el, number } from './format.js';

const STATES = { FIRING: 'firing', PENDING: 'pending', NODATA: 'nodata' };

function deviceLink(id) {
  return id ? el('a', { href: `#/devices/${encodeURIComponent(id)}`, text: id }) : '–';
}

function table(headers, rows) {
  return el('div', { class: 'table-wrap panel' }, el('table', {},
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', { text: h })))), el('tbody', {}, rows)));
}

export function alertsPage(main) {
  const body = el('div', {}, el('p', { class: 'muted', text: 'Loading alerts…' }));
  main.replaceChildren(el('h1', { text: 'Alerts' }), body);
  let stopped = false;

  const ack = async (alert, button) => {
    button.disabled = true;
    try {
      await api(`/alerts/${encodeURIComponent(alert.id)}/ack`, { method: 'POST', body: {} });
      load();
    } catch (e) {
      button.disabled = false;
      button.textContent = e.message;
    }
  };

  const current = (alerts) => {
    if (!alerts.length) return el('p', { class: 'muted', text: 'Nothing is firing.' });
    return table(['state', 'rule', 'device', 'metric', 'value', 'since', ''], alerts.map((a) => {
      const button = session.scope === 'admin' && !a.acked
        ? el('button', { type: 'button', text: 'Acknowledge', onclick: (e) => ack(a, e.currentTarget) }) : null;
      return el('tr', {},
        el('td', { class: STATES[a.state] || '', text: a.state }), el('td', { text: a.rule }),
        el('td', {}, deviceLink(a.device_id)), el('td', { text: a.metric || '' }),
        el('td', { class: 'num', text: number(a.value, 2) }), el('td', { text: dateTime(Date.parse(a.since)) }),
        el('td', {}, a.acked ? 'acknowledged' : button));
    }));
  };

  const history = (events) => {
    if (!events.length) return el('p', { class: 'muted', text: 'No alerts in the last 7 days.' });
    return table(['at', 'rule', 'device', 'state', 'value'], events.map((h) => el('tr', {},
      el('td', { text: dateTime(Date.parse(h.at)) }), el('td', { text: h.rule }),
      el('td', {}, deviceLink(h.device_id)), el('td', { class: STATES[h.state] || '', text: h.state }),
      el('td', { class: 'num', text: number(h.value, 2) }))));
  };

  const load = async () => {
    const end = new Date();
    const start = new Date(end.getTime() - 7 * 86400e3);
    try {
      const alerts = await api('/alerts');
      const events = await api(`/alerts/history?${query({ start_date: start.toISOString(),
        end_date: end.toISOString() })}`).catch(() => []);
      if (stopped) return;
      body.replaceChildren(el('h2', { text: 'Now' }), current(alerts), el('h2', { text: 'Last 7 days' }),
        history(events));
    } catch (e) {
      if (stopped) return;
      body.replaceChildren(e.status === 404
        ? el('p', { class: 'muted', text: 'Alerts are not configured on this server.' })
        : el('p', { class: 'error', text: e.message }));
    }
  };
  load();
  const timer = setInterval(load, 15000);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
