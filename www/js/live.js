// The live feed (GET /live, a WebSocket): the token as the first message, every reading passed
// on, and after a network loss a reconnect with ?since=<last cursor> so nothing is missed.

import { session } from './api.js';

export class LiveFeed {
  // onReading(reading), onState('live' | 'connecting' | 'reconnecting' | 'refused')
  constructor({ devices = [], onReading, onState }) {
    this.devices = devices;
    this.onReading = onReading;
    this.onState = onState || (() => {});
    this.cursor = null;
    this.retry = 0;
    this.closed = false;
    this.connect();
  }

  url() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const params = new URLSearchParams();
    for (const device of this.devices) params.append('device_id', device);
    if (this.cursor) params.set('since', this.cursor);
    const search = params.toString();
    return `${scheme}//${location.host}/live${search ? `?${search}` : ''}`;
  }

  connect() {
    this.onState(this.retry ? 'reconnecting' : 'connecting');
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.onopen = () => {
      if (session.token) socket.send(JSON.stringify({ type: 'auth', token: session.token }));
      this.retry = 0;
      this.onState('live');
    };
    socket.onmessage = (event) => this.message(event.data);
    socket.onclose = (event) => this.closedBy(event);
  }

  message(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.cursor) this.cursor = message.cursor;
    if (message.type === 'reading' && message.reading) this.onReading(message.reading);
    if (message.type === 'gap' && this.onGap) this.onGap();
  }

  closedBy(event) {
    if (this.closed) return;
    if (event.code === 1008) {
      this.onState('refused');  // the token may not read: the API calls will sign out
      return;
    }
    this.retry += 1;
    this.onState('reconnecting');
    const delay = Math.min(10000, 500 * 2 ** Math.min(this.retry, 5)) * (0.5 + Math.random() / 2);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000);
  }
}
