// Verifying requests from the edge, in an upstream behind `/app/*` (Node >= 20, `jose`). The
// README quotes this file and tests/e2e/upstream.test.mjs runs it behind a real edge.
import { createRemoteJWKSet, jwtVerify } from 'jose';

/**
 * A verifier for requests the edge at `edge` (its public URL) forwards. `issuer` is the edge's
 * ISSUER. Pass `keys` (a JWKS from `/.well-known/upstream-jwks.json`, e.g. through jose's
 * `createLocalJWKSet`) to skip fetching them.
 */
export function assertionVerifier({ edge, issuer = 'epochgate', keys } = {}) {
  const jwks = keys ?? createRemoteJWKSet(new URL('/.well-known/upstream-jwks.json', edge));
  const seen = new Map(); // jti -> exp: each assertion is accepted once
  /**
   * `req` is a node:http request (or `{ method, url, headers }` with lower-case header names).
   * Resolves to the caller, `{ account, session, device }`; rejects unless the request carries
   * a valid assertion made for this very method, path and query, less than 60 s old.
   */
  return async function verify(req, { currentDate = new Date() } = {}) {
    const jws = req.headers['epochgate-assertion'];
    if (typeof jws !== 'string') throw new Error('no Epochgate-Assertion header');
    const { payload } = await jwtVerify(jws, jwks, {
      algorithms: ['EdDSA'],
      typ: 'epochgate-assertion+jwt',
      issuer,
      audience: 'upstream',
      maxTokenAge: 60,
      clockTolerance: 5,
      requiredClaims: ['sub', 'sid', 'htm', 'htu', 'iat', 'exp', 'jti'],
      currentDate,
    });
    if (payload.exp - payload.iat > 60) throw new Error('the assertion lives longer than 60 s');
    if (payload.htm !== req.method || payload.htu !== req.url) {
      throw new Error(`the assertion is for ${payload.htm} ${payload.htu}, not ${req.method} ${req.url}`);
    }
    const now = currentDate.getTime() / 1000;
    for (const [jti, exp] of seen) if (exp + 5 < now) seen.delete(jti);
    if (seen.has(payload.jti)) throw new Error('the assertion was already used');
    seen.set(payload.jti, payload.exp);
    return { account: payload.sub, session: payload.sid, device: payload.dev };
  };
}
