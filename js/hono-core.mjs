// Hono middleware over an Authenticator. It imports nothing: each runtime's `epochgate/hono`
// entry passes its own entry's namespace (`eg`), so the middleware uses the wasm module that
// runtime initialised, and Hono stays an optional peer (only its types are referred to).

function coded(code, message) {
  const e = new Error(message);
  e.code = code;
  return e;
}

// The Workers ExecutionContext's waitUntil, so a background refresh outlives the response.
// Hono's `c.executionCtx` throws where there is none (Node, tests).
function waitUntilOf(c) {
  try {
    const ctx = c.executionCtx;
    if (ctx && typeof ctx.waitUntil === 'function') return (p) => ctx.waitUntil(p);
  } catch {
    // no ExecutionContext outside Workers
  }
  return undefined;
}

// A step-up rule's shape, checked when the route is declared rather than on its first request;
// the core checks the rest (limits of amr names) when it validates.
function checkStepUp(rule) {
  if (rule === null || typeof rule !== 'object' || Array.isArray(rule)) {
    throw coded('invalid_option', 'epochgate.stepUp(rule): rule must be an object like { maxAuthAge: 300, requiredAmr: ["hwk"] }');
  }
  for (const name of Object.keys(rule)) {
    if (name !== 'maxAuthAge' && name !== 'requiredAmr') {
      throw coded('invalid_option', `epochgate.stepUp(rule): unknown member "${name}"; the known ones are maxAuthAge, requiredAmr`);
    }
  }
  const { maxAuthAge, requiredAmr } = rule;
  if (maxAuthAge !== undefined && !(Number.isSafeInteger(maxAuthAge) && maxAuthAge >= 0)) {
    throw coded('invalid_option', `epochgate.stepUp(rule): maxAuthAge must be a whole number of seconds, got ${String(maxAuthAge)}`);
  }
  if (requiredAmr !== undefined && !(Array.isArray(requiredAmr) && requiredAmr.every((m) => typeof m === 'string'))) {
    throw coded('invalid_option', 'epochgate.stepUp(rule): requiredAmr must be an array of method names such as "hwk"');
  }
  if (maxAuthAge === undefined && (requiredAmr === undefined || requiredAmr.length === 0)) {
    throw coded('invalid_option', 'epochgate.stepUp(rule): the rule asks for nothing: give maxAuthAge or requiredAmr');
  }
  return { ...rule };
}

/** `epochgate(options)` for the runtime whose entry namespace is `eg`. */
export function honoMiddleware(eg) {
  return function epochgate(options) {
    const fromEnv = typeof options === 'function';
    if (!fromEnv && (options === null || typeof options !== 'object')) {
      throw coded('invalid_option', 'epochgate(options): options must be an object, or a function of env returning one');
    }
    // Options from `env` can only be read on a request (Workers pass env per request); the
    // authenticator is built once, on the first, and shared by every later one.
    let auth = fromEnv ? null : new eg.Authenticator(options);
    const authenticatorFor = (c) => {
      if (!auth) auth = new eg.Authenticator(options(c.env));
      return auth;
    };

    const guard = (stepUp) => async (c, next) => {
      const result = await authenticatorFor(c).authenticate(c.req.raw, { stepUp, waitUntil: waitUntilOf(c) });
      if (!result.ok) return eg.unauthorized(result);
      c.set('session', result.session);
      c.set('token', result.token);
      await next();
    };

    const middleware = guard(undefined);
    // A route's step-up validates the token again with the rule (a cache hit in the core),
    // so it also stands on its own where no plain middleware ran first.
    middleware.stepUp = (rule) => guard(checkStepUp(rule));
    Object.defineProperty(middleware, 'authenticator', { get: () => auth, enumerable: true });
    return middleware;
  };
}
