// JSON over HTTP to carehub-web. State-changing requests carry the session's CSRF token in the header the
// server names (web/API.md); a refused request becomes an ApiError with the server's own message.
const state = { csrf: null, csrfHeader: 'X-CSRF-Token', onUnauthorized: null };

export class ApiError extends Error {
  constructor(status, message, body, retryAfter = null) {
    super(message);
    this.status = status;
    this.body = body;
    this.code = body?.error?.code ?? null;
    this.retryAfter = retryAfter;
  }
}

export function setCsrf(token, header) {
  state.csrf = token;
  if (header) state.csrfHeader = header;
}

// Called when the server says the session is gone (401): the console goes back to its login page.
export function onUnauthorized(callback) {
  state.onUnauthorized = callback;
}

async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && state.csrf) headers[state.csrfHeader] = state.csrf;
  let res;
  try {
    res = await fetch(path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, e.message, null);
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { error: text };
  }
  if (!res.ok) {
    if (res.status === 401 && state.onUnauthorized) state.onUnauthorized();
    const message = (data && (data.error?.message ?? data.error ?? data.message)) || `HTTP ${res.status}`;
    const retryAfter = Number(res.headers.get('Retry-After')) || null;
    throw new ApiError(res.status, String(message), data, retryAfter);
  }
  return data;
}

export const get = (path) => request('GET', path);
export const post = (path, body = {}) => request('POST', path, body);
export const del = (path, body) => request('DELETE', path, body);
