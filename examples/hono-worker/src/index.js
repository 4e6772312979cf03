import { Hono } from 'hono';
import { epochgate } from 'epochgate/hono';

// Options from the Worker's env, read on the first request: keys and sign-outs come from the origin.
const auth = epochgate((env) => ({
  issuer: env.ISSUER, audience: env.AUDIENCE, origin: env.EPOCHGATE_ORIGIN, maxStateAge: Number(env.MAX_STATE_AGE),
}));

const app = new Hono();
app.get('/', (c) => c.text('public: no token needed\n'));
app.use('/api/*', auth);
app.get('/api/me', (c) => c.json(c.get('session')));
app.post('/api/payments', auth.stepUp({ maxAuthAge: 300, requiredAmr: ['hwk'] }), (c) => c.json({ paid: true, account: c.get('session').account }));

export default app;
