// A stand-in epochgate origin over node:http, built from the installed package's own Issuer and
// RevocationLog (the real signing and update encoding, not canned bytes): the two key sets, the
// revocation feed, and two test-only routes a child process uses to mint and revoke.
import { createServer } from 'node:http';

/**
 * Starts the origin with `eg` (an `epochgate` entry's namespace). Tokens carry `issuer` and
 * `audience`. Other paths go to `fallback(req, res)` when given (a page's files, so that the page
 * and its origin are one origin). Resolves to { base, mint, revokeDevice, revokeAll, requests, close }.
 */
export async function startFakeOrigin(eg, { issuer = 'epochgate', audience = 'epochgate', fallback = null } = {}) {
  const tokenKey = eg.generateKeyPair('fake-token-1');
  const updateKey = eg.generateKeyPair('fake-updates-1');
  const minter = new eg.Issuer({ issuer, audience, privateJwk: tokenKey.privateJwk });
  const log = new eg.RevocationLog({ privateJwk: updateKey.privateJwk });
  const requests = [];

  const mint = (account, session) => {
    const device = log.allocateDevice(account);
    const token = minter.mint({ account, session, device, epoch: log.epochOf(account) });
    return { token, device };
  };

  const json = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://origin.invalid');
    requests.push(url.pathname + url.search);
    const q = (name) => url.searchParams.get(name);
    try {
      switch (url.pathname) {
        case '/.well-known/jwks.json':
          return json(res, 200, minter.publicJwks());
        case '/.well-known/revocation-jwks.json':
          return json(res, 200, { keys: [updateKey.publicJwk] });
        case '/v1/revocations': {
          const since = Number(q('since'));
          if (!Number.isSafeInteger(since) || since < 0) return json(res, 400, { error: 'invalid_input', message: 'since' });
          if (since > log.seq) return json(res, 409, { error: 'since_ahead', message: `the feed is at ${log.seq}` });
          const bytes = log.updateSince(since);
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.byteLength, 'cache-control': 'no-store' });
          return res.end(bytes);
        }
        case '/test/mint':
          return json(res, 200, mint(q('account'), q('session')));
        case '/test/revoke-device':
          log.revokeDevice(q('account'), Number(q('device')));
          return json(res, 200, { seq: log.seq });
        case '/test/revoke-all':
          return json(res, 200, { epoch: log.revokeAll(q('account')), seq: log.seq });
        default:
          if (fallback) return fallback(req, res, url);
          return json(res, 404, { error: 'not_found', message: url.pathname });
      }
    } catch (e) {
      return json(res, 500, { error: e.code ?? 'internal', message: e.message });
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    base,
    issuer,
    audience,
    requests,
    mint,
    revokeDevice: (account, device) => log.revokeDevice(account, device),
    revokeAll: (account) => log.revokeAll(account),
    close: () => new Promise((ok) => { server.closeAllConnections(); server.close(ok); }),
  };
}
