// The admin API (/v1) as the page calls it: JSON in and out, the bearer token from
// sessionStorage, and a prompt for the token whenever the daemon answers 401.

const TOKEN_KEY = 'holdfast.adminToken';

/** A non-2xx answer: `status`, and the daemon's `{error:{code,message}}` when it sent one. */
export class AdminApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * `askToken(rejected)` shows the token form and resolves with what the operator typed
 * (`rejected`: a token was sent and the daemon refused it). Every call that is answered 401 waits
 * for one prompt (concurrent calls share it) and is sent again with the new token.
 */
export function createAdminApi({ askToken }) {
  let token = readToken();
  let prompt = null;

  function authHeaders() {
    return token ? { authorization: `Bearer ${token}` } : {};
  }

  async function newToken(rejectedToken) {
    if (token !== rejectedToken) return; // another call already got a new one
    prompt ??= askToken(rejectedToken !== null).then((entered) => {
      token = entered;
      try {
        sessionStorage.setItem(TOKEN_KEY, entered);
      } catch {
        // storage unavailable (private mode): the token lives in memory only
      }
      prompt = null;
    });
    await prompt;
  }

  /** Sends a request, asking for the token on 401 and sending it again; resolves with the Response. */
  async function send(path, init = {}) {
    for (;;) {
      const sent = token;
      const response = await fetch(path, { cache: 'no-store', ...init, headers: { ...init.headers, ...authHeaders() } });
      if (response.status !== 401) return response;
      await response.body?.cancel();
      await newToken(sent);
    }
  }

  async function json(path, init) {
    const response = await send(path, init);
    const text = await response.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: a proxy's error page, say
    }
    if (!response.ok) {
      const error = body?.error;
      throw new AdminApiError(response.status, error?.code ?? 'http_error', error?.message ?? `${response.status} ${response.statusText}`);
    }
    return body;
  }

  return {
    get: (path, signal) => json(path, { signal }),
    post: (path, body) => json(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) }),
    /** Opens `/v1/events` as server-sent events after `cursor` (Last-Event-ID). */
    openEvents: (path, cursor, signal) => send(path, { signal, headers: { accept: 'text/event-stream', 'last-event-id': String(cursor) } }),
  };
}

function readToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}
