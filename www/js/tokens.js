// Tokens (admin only): list, create (shown once, with a copy button), revoke.

import { api, session } from './api.js';
import { dateTime, el } from './format.js';

export function tokensPage(main) {
  main.replaceChildren(el('h1', { text: 'Tokens' }));
  if (session.scope !== 'admin') {
    main.append(el('p', { class: 'error', id: 'refused',
      text: 'This page needs an admin token; you are signed in with a read token.' }));
    return () => {};
  }
  const list = el('div', {}, el('p', { class: 'muted', text: 'Loading tokens…' }));
  const created = el('div', { role: 'status' });
  const scope = el('select', { id: 'token-scope', 'aria-label': 'scope' },
    ['read', 'device', 'admin'].map((s) => el('option', { value: s, text: s })));
  const device = el('input', { id: 'token-device', 'aria-label': 'device id', placeholder: 'device id', hidden: true });
  scope.addEventListener('change', () => {
    device.hidden = scope.value !== 'device';
  });
  const error = el('p', { class: 'error', role: 'alert' });

  const show = (answer) => {
    const text = el('p', { class: 'token-once', id: 'new-token', text: answer.token });
    const copy = el('button', { type: 'button', text: 'Copy', onclick: async () => {
      try {
        await navigator.clipboard.writeText(answer.token);
        copy.textContent = 'Copied';
      } catch {
        getSelection().selectAllChildren(text);
        copy.textContent = 'Selected: press Ctrl+C';
      }
    } });
    created.replaceChildren(el('div', { class: 'panel' },
      el('p', { text: `New ${answer.scope} token ${answer.id}. It is shown only now:` }), text, copy));
  };

  const load = async () => {
    try {
      const tokens = await api('/tokens');
      list.replaceChildren(el('div', { class: 'table-wrap panel' }, el('table', { id: 'tokens' },
        el('thead', {}, el('tr', {}, ['id', 'scope', 'device', 'created', 'last used', ''].map((h) => el('th', { text: h })))),
        el('tbody', {}, tokens.map((t) => el('tr', { 'data-token': String(t.id) },
          el('td', { text: String(t.id) }), el('td', { text: t.scope }), el('td', { text: t.device_id || '–' }),
          el('td', { text: dateTime(Date.parse(t.created)) }),
          el('td', { text: t.last_used ? dateTime(Date.parse(t.last_used)) : 'never' }),
          el('td', {}, revokeButton(t))))))));
    } catch (e) {
      list.replaceChildren(el('p', { class: 'error', text: e.message }));
    }
  };

  // Two steps, no dialog: "Revoke", then "Really revoke?" for 4 s.
  const revokeButton = (t) => {
    const button = el('button', { type: 'button', class: 'danger', text: 'Revoke' });
    let timer = 0;
    button.addEventListener('click', async () => {
      if (!timer) {
        button.textContent = 'Really revoke?';
        timer = setTimeout(() => {
          timer = 0;
          button.textContent = 'Revoke';
        }, 4000);
        return;
      }
      clearTimeout(timer);
      try {
        await api(`/tokens/${t.id}`, { method: 'DELETE' });
        load();
      } catch (e) {
        error.textContent = e.message;
      }
    });
    return button;
  };

  const form = el('form', { class: 'toolbar', onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = '';
    const body = { scope: scope.value };
    if (scope.value === 'device') body.device_id = device.value.trim();
    try {
      show(await api('/tokens', { method: 'POST', body }));
      load();
    } catch (e) {
      error.textContent = e.message;
    }
  } }, scope, device, el('button', { class: 'primary', type: 'submit', text: 'Create token' }));
  main.append(el('h2', { text: 'New token' }), form, error, created, el('h2', { text: 'Active tokens' }), list);
  load();
  return () => {};
}
