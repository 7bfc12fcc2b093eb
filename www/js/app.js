// The dashboard's entry: sign-in when the server wants a token, hash routes
// (#/, #/devices/ID, #/alerts, #/tokens), the connection indicator.

import { api, saveToken, session } from './api.js';
import { alertsPage } from './alerts.js';
import { devicePage } from './device.js';
import { devicesPage } from './devices.js';
import { el } from './format.js';
import { tokensPage } from './tokens.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const conn = document.getElementById('conn');
const signOut = document.getElementById('signout');
let cleanup = () => {};

const CONN_TEXT = { live: '● live', connecting: 'connecting…', reconnecting: 'reconnecting…',
  refused: 'live updates refused' };

function setConn(state) {
  conn.textContent = CONN_TEXT[state] || '';
  conn.classList.toggle('down', state === 'reconnecting' || state === 'refused');
  conn.dataset.state = state;
}

function leavePage() {
  cleanup();
  cleanup = () => {};
  setConn('');
}

function route() {
  leavePage();
  const hash = location.hash.replace(/^#/, '') || '/';
  const page = hash === '/' ? 'devices' : hash.split('/')[1];
  for (const link of nav.querySelectorAll('a')) {
    if (link.dataset.page === page) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const device = hash.match(/^\/devices\/(.+)$/);
  if (hash === '/') cleanup = devicesPage(main, { setConn });
  else if (device) cleanup = devicePage(main, decodeURIComponent(device[1]), { setConn });
  else if (hash === '/alerts') cleanup = alertsPage(main);
  else if (hash === '/tokens') cleanup = tokensPage(main);
  else main.replaceChildren(el('h1', { text: 'Page not found' }), el('p', {}, el('a', { href: '#/', text: 'All devices' })));
}

function signedIn(check) {
  session.scope = check.scope;
  nav.hidden = false;
  document.getElementById('nav-tokens').hidden = check.scope !== 'admin';
  signOut.hidden = !session.authEnabled;
  window.addEventListener('hashchange', route);
  route();
}

// A sign-in check of token: the scope, or a sentence saying why not.
async function check(token) {
  try {
    const answer = await api('/auth/check', { token, quiet401: true });
    if (answer.scope === 'device') return { problem: 'A device token only sends readings: use a read or admin token.' };
    return { answer };
  } catch (e) {
    return { problem: e.status === 401 ? 'That token was not accepted.' : e.message };
  }
}

function showSignIn(message = '') {
  leavePage();
  window.removeEventListener('hashchange', route);
  nav.hidden = true;
  signOut.hidden = true;
  const input = el('input', { id: 'token', type: 'password', autocomplete: 'off', required: true,
    'aria-describedby': 'signin-error', placeholder: 'sst_…' });
  const error = el('p', { id: 'signin-error', class: 'error', role: 'alert', text: message });
  const form = el('form', { onsubmit: async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    const result = await check(token);
    if (result.problem) {
      error.textContent = result.problem;
      input.focus();
      return;
    }
    saveToken(token);
    signedIn(result.answer);
  } },
  el('label', { for: 'token', text: 'Access token (read or admin)' }), input, error,
  el('button', { class: 'primary', type: 'submit', text: 'Sign in' }));
  main.replaceChildren(el('div', { class: 'signin panel' }, el('h1', { text: 'Sign in' }),
    el('p', { class: 'muted', text: 'Paste a token made with “sensorsys-server token create --read”.' }), form));
  input.focus();
}

async function start() {
  session.onSignedOut = () => {
    saveToken('');
    showSignIn('Your token is no longer accepted; sign in again.');
  };
  signOut.addEventListener('click', () => {
    saveToken('');
    showSignIn();
  });
  try {
    const settings = await api('/dashboard.json');
    session.authEnabled = settings.auth_enabled;
  } catch (e) {
    main.replaceChildren(el('p', { class: 'error', text: e.message }));
    return;
  }
  if (session.authEnabled && !session.token) {
    showSignIn();
    return;
  }
  const result = await check(session.authEnabled ? session.token : '');
  if (result.problem) {
    saveToken('');
    showSignIn(session.authEnabled ? 'Your token is no longer accepted; sign in again.' : result.problem);
    return;
  }
  signedIn(result.answer);
}

start();
