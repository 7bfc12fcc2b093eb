// The API as the dashboard uses it: the token (session storage), JSON requests with the Bearer
// header, and errors turned into sentences a person can read (never raw JSON).

const TOKEN_KEY = 'sensorsys.token';

export const session = {
  token: sessionStorage.getItem(TOKEN_KEY) || '',
  scope: null,
  authEnabled: true,
  onSignedOut: () => {},
};

export function saveToken(token) {
  session.token = token;
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const MESSAGES = {
  0: 'The server cannot be reached.',
  401: 'Please sign in again.',
  403: 'This token may not do that.',
  404: 'Not found.',
  503: 'The server is busy or its database is unavailable; try again shortly.',
};

async function errorFrom(response) {
  let detail = '';
  try {
    const body = await response.json();
    if (body && typeof body.error === 'string') detail = body.error;
  } catch {
    // not JSON: the status says enough
  }
  const base = MESSAGES[response.status] || `The server answered ${response.status}.`;
  return new ApiError(response.status, detail && response.status === 422 ? `Refused: ${detail}.` : base);
}

export function authHeaders(token = session.token) {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

// The answer of path as JSON (null for 204). A 401 signs out (unless quiet401, for sign-in).
export async function api(path, { method = 'GET', body, token, quiet401 = false } = {}) {
  const headers = authHeaders(token === undefined ? session.token : token);
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, MESSAGES[0]);
  }
  if (response.status === 401 && !quiet401) session.onSignedOut();
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return null;
  return response.json();
}

// A file download through fetch (the Bearer header cannot ride on a plain link).
export async function download(path, filename) {
  const response = await fetch(path, { headers: authHeaders() });
  if (response.status === 401) session.onSignedOut();
  if (!response.ok) throw await errorFrom(response);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    for (const item of Array.isArray(value) ? value : [value]) search.append(key, item);
  }
  return search.toString();
}
