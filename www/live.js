// Live sign-out: the /v1/events WebSocket pushes `signed_out` the moment this device (or the
// whole account) is signed out elsewhere. The session machine decides whether to act on it.
// It also pushes `security` (two-factor authentication turned on or off by another device),
// which signs nobody out: `onSecurity(event)` gets it.

/** `api`, `session`, `onSecurity(event)`. */
export function createLive({ api, session, onSecurity = () => {} }) {
  let socket = null;
  let retries = 0;

  function open() {
    close();
    if (!session.token) return;
    // Browsers cannot set headers on a WebSocket, so the token goes in the query, as the API
    // allows; the connection is same-origin.
    const url = new URL('/v1/events', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('access_token', session.token);
    const ws = new WebSocket(url);
    socket = ws;
    ws.addEventListener('open', () => { retries = 0; });
    ws.addEventListener('message', (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch { return; }
      if (msg?.type === 'security' && typeof msg.event === 'string') onSecurity(msg.event);
      if (msg?.type !== 'signed_out') return;
      session.signedOutElsewhere(msg.scope);
    });
    ws.addEventListener('close', async () => {
      if (socket !== ws) return;
      socket = null;
      if (!session.token) return;
      // Closed without a push (refused upgrade, network, restart): a 401 from /v1/me leaves
      // with its reason; otherwise reconnect with backoff.
      try { await api('GET', '/v1/me'); } catch { /* handled or offline */ }
      if (!session.token) return;
      const delay = Math.min(30000, 500 * 2 ** retries++);
      setTimeout(() => { if (session.token && !socket) open(); }, delay);
    });
  }

  function close() {
    const ws = socket;
    socket = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000);
  }

  return { open, close };
}
