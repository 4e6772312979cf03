// A plain node:http server that accepts epochgate sessions. The Authenticator loads the token
// keys from the origin on the first request and follows its /v1/revocations, so a device signed
// out there is refused here within about a second. EPOCHGATE_ORIGIN and PORT from the environment.
import { createServer } from 'node:http';
import { Authenticator, unauthorized } from 'epochgate';

const port = Number(process.env.PORT ?? 3000);
const auth = new Authenticator({
  issuer: process.env.ISSUER ?? 'epochgate',
  audience: process.env.AUDIENCE ?? 'epochgate',
  origin: process.env.EPOCHGATE_ORIGIN ?? 'http://127.0.0.1:8787',
  maxStateAge: Number(process.env.MAX_STATE_AGE ?? 30),
});

// A refusal answered with the package's Response: status, WWW-Authenticate, JSON body.
async function refuse(res, failure) {
  const answer = unauthorized(failure);
  res.writeHead(answer.status, Object.fromEntries(answer.headers));
  res.end(await answer.text());
}

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const routes = {
  'GET /': async (req, res) => json(res, 200, { public: true }),
  'GET /api/me': async (req, res) => {
    const result = await auth.authenticate(req);
    return result.ok ? json(res, 200, result.session) : refuse(res, result);
  },
  // Step-up: a passkey sign-in at most five minutes old.
  'POST /api/payments': async (req, res) => {
    const result = await auth.authenticate(req, { stepUp: { maxAuthAge: 300, requiredAmr: ['hwk'] } });
    return result.ok ? json(res, 200, { paid: true, account: result.session.account }) : refuse(res, result);
  },
};

createServer((req, res) => {
  const route = routes[`${req.method} ${new URL(req.url, 'http://x').pathname}`];
  if (!route) return json(res, 404, { error: 'not_found', message: 'no such route' });
  route(req, res).catch((e) => {
    console.error(e);
    if (!res.headersSent) json(res, 500, { error: 'internal_error', message: 'the server failed' });
  });
}).listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}`));
