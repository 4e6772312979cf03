// Live sign-out: the /v1/events WebSocket pushes `signed_out` the moment this device (or the
// whole account) is signed out elsewhere. The session machine decides whether to act on it.
// It also pushes `security` (e.g. two-factor authentication turned on or off by another device),
// which signs nobody out: `onSecurity(event)` gets it.
//
// Browsers cannot set headers on a WebSocket, and a bearer token in a URL ends up in logs, so the
// socket opens with a ticket: POST /v1/events/ticket (with the token, in a header) answers a
// single-use ticket valid for 30 s, and each connection, reconnections included, asks for a new one.

/** The socket's URL for `ticket`, on the page's own origin (ws: or wss: like the page). */
export function eventsUrl(pageHref, ticket) {
  const url = new URL('/v1/events', pageHref);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('ticket', ticket);
  return url;
}

/** `api`, `session`, `onSecurity(event)`. */
export function createLive({ api, session, onSecurity = () => {} }) {
  let socket = null;
  let retries = 0;
  // Bumped by every open() and close(): a ticket that arrives for an older attempt is dropped.
  let attempt = 0;

  function retryLater() {
    const mine = attempt;
    const delay = Math.min(30000, 500 * 2 ** retries++);
    setTimeout(() => { if (mine === attempt && session.token && !socket) open(); }, delay);
  }

  async function open() {
    close();
    if (!session.token) return;
    const mine = ++attempt;
    let ticket;
    try {
      ({ ticket } = await api('POST', '/v1/events/ticket', { body: {} }));
    } catch {
      // A token refusal has ended the session already (api.js); anything else: try again later.
      if (mine === attempt && session.token) retryLater();
      return;
    }
    if (mine !== attempt || !session.token) return;
    const ws = new WebSocket(eventsUrl(location.href, ticket));
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
      // with its reason; otherwise reconnect, with a new ticket, after a backoff.
      try { await api('GET', '/v1/me'); } catch { /* handled or offline */ }
      if (!session.token || mine !== attempt) return;
      retryLater();
    });
  }

  function close() {
    attempt++;
    const ws = socket;
    socket = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000);
  }

  return { open, close };
}
