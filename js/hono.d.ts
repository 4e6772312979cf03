// `epochgate/hono`: Hono middleware over an {@link Authenticator}. Hono is an optional peer
// dependency; only its types are used here.
import type { MiddlewareHandler } from 'hono';
import type { AuthenticatorOptions, Authenticator } from './index.js';
import type { StepUp, ValidVerdict } from './dist/glue.mjs';

/** What the middleware puts on the context: `c.get('session')`, `c.get('token')`. */
export interface EpochgateVariables {
  session: ValidVerdict;
  token: string;
}

/** The middleware, plus per-route step-up over the same authenticator. */
export interface EpochgateMiddleware extends MiddlewareHandler<{ Variables: EpochgateVariables }> {
  /** For a route after the middleware: a sign-in at most `maxAuthAge` s old, with every method of `requiredAmr`. */
  stepUp(rule: StepUp): MiddlewareHandler<{ Variables: EpochgateVariables }>;
  /** The authenticator, once built (on the first request when options come from `env`). */
  readonly authenticator: Authenticator | null;
}

/**
 * `app.use('/api/*', epochgate({ issuer, audience, origin }))`: 401 with `WWW-Authenticate` and a
 * JSON body for a missing, invalid or signed-out token; otherwise the verified session on the
 * context. Options may be a function of the Worker's `env`, called once on the first request.
 */
export declare function epochgate(
  options: AuthenticatorOptions | ((env: any) => AuthenticatorOptions),
): EpochgateMiddleware;
