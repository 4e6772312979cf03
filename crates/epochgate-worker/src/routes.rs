//! The route table: every HTTP route of the Worker with its method, who may call it and which
//! half answers it. The edge authorises with it and the origin dispatches with it, so a route
//! and its policy are written once.
//!
//! To add a route: a variant here (path in [`Route::at`], then [`Route::method`],
//! [`Route::access`], [`Route::server`]), a handler in `edge/` (served by the edge) or
//! `origin/` (served by the origin, dispatched in `origin/mod.rs`), and `openapi.yaml` (the
//! test below compares the two). A route that shares its path with another route of another
//! method is also named in [`Route::sibling`] and [`Route::allow`].

use worker::Method;

use crate::error::ApiError;

/// Who may call a route; the edge checks it before anything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// A valid session token in `Authorization`.
    Token,
    /// A valid session token in `Authorization`, or a single-use `?ticket=` from `POST
    /// /v1/events/ticket` that the origin redeems (browsers cannot set headers on a WebSocket,
    /// and a 30-day token must not travel in a URL).
    TokenOrTicket,
    /// The admin token (`ADMIN_TOKEN`).
    Admin,
    /// Only the edge, with a verified identity; the internet gets 404.
    Internal,
}

/// Which half answers a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    /// The edge, from the isolate alone.
    Edge,
    /// The origin Durable Object.
    Origin,
    /// `UPSTREAM_URL` (or the built-in echo).
    Upstream,
    /// The feed Durable Object: the published revocation state, apart from account work.
    Feed,
    /// An email directory Durable Object (`origin/directory.rs`).
    Directory,
}

/// One route, with the path parameters it carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route<'a> {
    /// `GET /.well-known/jwks.json`.
    Jwks,
    /// `GET /.well-known/revocation-jwks.json`.
    RevocationJwks,
    /// `POST /v1/accounts`.
    SignUp,
    /// `POST /v1/login`.
    Login,
    /// `GET /.well-known/upstream-jwks.json`: the keys of the upstream assertion.
    UpstreamJwks,
    /// `POST /v1/password/reset`.
    PasswordReset,
    /// `POST /v1/password/reset/confirm`.
    PasswordResetConfirm,
    /// `POST /v1/secure-account`: the mailed "not you?" link.
    SecureAccount,
    /// `GET /v1/account`.
    Account,
    /// `POST /v1/reauth/email-code`.
    EmailCode,
    /// `POST /v1/recovery-codes`.
    RecoveryCodes,
    /// `POST /v1/email`.
    EmailChange,
    /// `POST /v1/events/ticket`.
    EventsTicket,
    /// `GET /v1/admin/outbox`: the development outbox.
    AdminOutbox,
    /// `GET /v1/revocations`.
    Revocations,
    /// `GET /v1/edge/stats`.
    EdgeStats,
    /// `GET /v1/me`.
    Me,
    /// `GET /v1/sessions`.
    Sessions,
    /// `DELETE /v1/sessions/{id}`.
    SignOutSession(&'a str),
    /// `POST /v1/sessions/sign-out-all`.
    SignOutAll,
    /// `POST /v1/password`.
    Password,
    /// `GET /v1/activity`.
    Activity,
    /// `POST /v1/totp`.
    TotpStart,
    /// `DELETE /v1/totp`.
    TotpDisable,
    /// `POST /v1/totp/confirm`.
    TotpConfirm,
    /// `GET /v1/events` (WebSocket).
    Events,
    /// `GET /v1/passkeys`.
    Passkeys,
    /// `POST /v1/passkeys`: register one.
    PasskeyRegister,
    /// `POST /v1/passkeys/registration-options`.
    PasskeyRegistrationOptions,
    /// `PATCH /v1/passkeys/{id}`.
    PasskeyRename(&'a str),
    /// `DELETE /v1/passkeys/{id}`.
    PasskeyRemove(&'a str),
    /// `POST /v1/login/passkey-options`: a sign-in challenge, issued by the edge.
    PasskeyLoginOptions,
    /// `POST /v1/login/passkey`.
    PasskeyLogin,
    /// `POST /v1/reauth/passkey-options`.
    ReauthPasskeyOptions,
    /// `POST /v1/reauth`: the caller's token re-minted after a re-authentication.
    Reauth,
    /// `/app` and everything under it, any method.
    App,
    /// `POST /v1/admin/accounts/{account}/sessions`.
    AdminSession(&'a str),
    /// `DELETE /v1/admin/accounts/{account}/sessions/{id}`.
    AdminSignOutSession {
        /// The account.
        account: &'a str,
        /// The session.
        session: &'a str,
    },
    /// `POST /v1/admin/accounts/{account}/sign-out-all`.
    AdminSignOutAll(&'a str),
    /// `POST /internal/touch`: the edge reports a session's activity on edge-only routes.
    Touch,
    /// `POST /internal/password`: the edge reserves a password check in its throttle bucket
    /// and gets the hash to check against.
    PasswordCheck,
    /// `POST /internal/publish`: an account object hands its revocation changes to the feed.
    Publish,
    /// `POST /internal/hand-over`: the feed asks the one shard of a single-shard deployment to
    /// hand over what waits for it — after an upgrade, the whole state the object published
    /// before the feed existed — before the feed's first update (`origin/feed.rs`).
    HandOver,
    /// `GET /internal/account-email?account=`: the email an origin shard holds for an account
    /// (the directory settling a pending claim).
    AccountEmail,
    /// `POST /internal/directory/claim`: an email for a sign-up or an email change.
    DirectoryClaim,
    /// `POST /internal/directory/confirm`.
    DirectoryConfirm,
    /// `POST /internal/directory/release`.
    DirectoryRelease,
    /// `POST /internal/directory/lookup`.
    DirectoryLookup,
    /// `POST /internal/directory/begin`: a login or reset confirmation reserves its place in
    /// its throttle bucket.
    DirectoryBegin,
    /// `POST /internal/directory/end`: settles it.
    DirectoryEnd,
}

/// Why no route answers a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Miss {
    /// No route has this path.
    NotFound,
    /// The path's route takes another method, named here for `Allow`.
    MethodNotAllowed(&'static str),
}

impl<'a> Route<'a> {
    /// The route at `path`, whatever the method (of a path with two routes, the first; see
    /// [`Route::sibling`]). Parameters are never empty.
    pub fn at(path: &'a str) -> Option<Self> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        Some(match segments.as_slice() {
            [".well-known", "jwks.json"] => Route::Jwks,
            [".well-known", "revocation-jwks.json"] => Route::RevocationJwks,
            ["v1", "accounts"] => Route::SignUp,
            ["v1", "login"] => Route::Login,
            [".well-known", "upstream-jwks.json"] => Route::UpstreamJwks,
            ["v1", "password", "reset"] => Route::PasswordReset,
            ["v1", "password", "reset", "confirm"] => Route::PasswordResetConfirm,
            ["v1", "secure-account"] => Route::SecureAccount,
            ["v1", "account"] => Route::Account,
            ["v1", "reauth", "email-code"] => Route::EmailCode,
            ["v1", "recovery-codes"] => Route::RecoveryCodes,
            ["v1", "email"] => Route::EmailChange,
            ["v1", "events", "ticket"] => Route::EventsTicket,
            ["v1", "admin", "outbox"] => Route::AdminOutbox,
            ["v1", "revocations"] => Route::Revocations,
            ["v1", "edge", "stats"] => Route::EdgeStats,
            ["v1", "me"] => Route::Me,
            ["v1", "sessions"] => Route::Sessions,
            ["v1", "sessions", "sign-out-all"] => Route::SignOutAll,
            ["v1", "sessions", id] if !id.is_empty() => Route::SignOutSession(id),
            ["v1", "password"] => Route::Password,
            ["v1", "activity"] => Route::Activity,
            ["v1", "totp"] => Route::TotpStart,
            ["v1", "totp", "confirm"] => Route::TotpConfirm,
            ["v1", "events"] => Route::Events,
            ["v1", "passkeys"] => Route::Passkeys,
            ["v1", "passkeys", "registration-options"] => Route::PasskeyRegistrationOptions,
            ["v1", "passkeys", id] if !id.is_empty() => Route::PasskeyRename(id),
            ["v1", "login", "passkey-options"] => Route::PasskeyLoginOptions,
            ["v1", "login", "passkey"] => Route::PasskeyLogin,
            ["v1", "reauth", "passkey-options"] => Route::ReauthPasskeyOptions,
            ["v1", "reauth"] => Route::Reauth,
            ["app"] | ["app", ..] => Route::App,
            ["v1", "admin", "accounts", a, "sessions"] if !a.is_empty() => Route::AdminSession(a),
            ["v1", "admin", "accounts", a, "sessions", id] if !a.is_empty() && !id.is_empty() => {
                Route::AdminSignOutSession {
                    account: a,
                    session: id,
                }
            }
            ["v1", "admin", "accounts", a, "sign-out-all"] if !a.is_empty() => {
                Route::AdminSignOutAll(a)
            }
            ["internal", "touch"] => Route::Touch,
            ["internal", "password"] => Route::PasswordCheck,
            ["internal", "publish"] => Route::Publish,
            ["internal", "hand-over"] => Route::HandOver,
            ["internal", "account-email"] => Route::AccountEmail,
            ["internal", "directory", "claim"] => Route::DirectoryClaim,
            ["internal", "directory", "confirm"] => Route::DirectoryConfirm,
            ["internal", "directory", "release"] => Route::DirectoryRelease,
            ["internal", "directory", "lookup"] => Route::DirectoryLookup,
            ["internal", "directory", "begin"] => Route::DirectoryBegin,
            ["internal", "directory", "end"] => Route::DirectoryEnd,
            _ => return None,
        })
    }

    /// The route for `method` at `path`.
    pub fn find(method: &Method, path: &'a str) -> Result<Self, Miss> {
        let route = Route::at(path).ok_or(Miss::NotFound)?.sibling(method);
        match route.method() {
            Some(m) if m != *method => Err(Miss::MethodNotAllowed(route.allow())),
            _ => Ok(route),
        }
    }

    /// The route at the same path that takes `method`: itself unless its path has another
    /// route for that method.
    fn sibling(self, method: &Method) -> Self {
        match (self, method) {
            (Route::TotpStart, Method::Delete) => Route::TotpDisable,
            (Route::Passkeys, Method::Post) => Route::PasskeyRegister,
            (Route::PasskeyRename(id), Method::Delete) => Route::PasskeyRemove(id),
            (route, _) => route,
        }
    }

    /// The one method the route takes; `None` when it takes any.
    pub fn method(&self) -> Option<Method> {
        Some(match self {
            Route::Jwks
            | Route::RevocationJwks
            | Route::UpstreamJwks
            | Route::Revocations
            | Route::EdgeStats
            | Route::Me
            | Route::Account
            | Route::Sessions
            | Route::Activity
            | Route::Events
            | Route::AdminOutbox
            | Route::AccountEmail
            | Route::Passkeys => Method::Get,
            Route::SignUp
            | Route::Login
            | Route::PasswordReset
            | Route::PasswordResetConfirm
            | Route::SecureAccount
            | Route::EmailCode
            | Route::RecoveryCodes
            | Route::EmailChange
            | Route::EventsTicket
            | Route::SignOutAll
            | Route::Password
            | Route::TotpStart
            | Route::TotpConfirm
            | Route::AdminSession(_)
            | Route::AdminSignOutAll(_)
            | Route::Touch
            | Route::PasswordCheck
            | Route::Publish
            | Route::HandOver
            | Route::DirectoryClaim
            | Route::DirectoryConfirm
            | Route::DirectoryRelease
            | Route::DirectoryLookup
            | Route::DirectoryBegin
            | Route::DirectoryEnd
            | Route::PasskeyRegister
            | Route::PasskeyRegistrationOptions
            | Route::PasskeyLoginOptions
            | Route::PasskeyLogin
            | Route::ReauthPasskeyOptions
            | Route::Reauth => Method::Post,
            Route::SignOutSession(_)
            | Route::TotpDisable
            | Route::AdminSignOutSession { .. }
            | Route::PasskeyRemove(_) => Method::Delete,
            Route::PasskeyRename(_) => Method::Patch,
            Route::App => return None,
        })
    }

    /// The `Allow` value: the methods of the routes at this path, or `*`.
    pub fn allow(&self) -> &'static str {
        match self {
            Route::TotpStart | Route::TotpDisable => return "POST, DELETE",
            Route::Passkeys | Route::PasskeyRegister => return "GET, POST",
            Route::PasskeyRename(_) | Route::PasskeyRemove(_) => return "PATCH, DELETE",
            _ => {}
        }
        match self.method() {
            Some(Method::Get) => "GET",
            Some(Method::Post) => "POST",
            Some(Method::Delete) => "DELETE",
            Some(Method::Patch) => "PATCH",
            _ => "*",
        }
    }

    /// Who may call it.
    pub fn access(&self) -> Access {
        match self {
            Route::Jwks
            | Route::RevocationJwks
            | Route::UpstreamJwks
            | Route::SignUp
            | Route::Login
            | Route::PasswordReset
            | Route::PasswordResetConfirm
            | Route::SecureAccount
            | Route::Revocations
            | Route::EdgeStats
            | Route::PasskeyLoginOptions
            | Route::PasskeyLogin => Access::Public,
            Route::Me
            | Route::Account
            | Route::EmailCode
            | Route::RecoveryCodes
            | Route::EmailChange
            | Route::EventsTicket
            | Route::Sessions
            | Route::SignOutSession(_)
            | Route::SignOutAll
            | Route::Password
            | Route::Activity
            | Route::TotpStart
            | Route::TotpDisable
            | Route::TotpConfirm
            | Route::Passkeys
            | Route::PasskeyRegister
            | Route::PasskeyRegistrationOptions
            | Route::PasskeyRename(_)
            | Route::PasskeyRemove(_)
            | Route::ReauthPasskeyOptions
            | Route::Reauth
            | Route::App => Access::Token,
            Route::Events => Access::TokenOrTicket,
            Route::AdminOutbox
            | Route::AdminSession(_)
            | Route::AdminSignOutSession { .. }
            | Route::AdminSignOutAll(_) => Access::Admin,
            Route::Touch
            | Route::PasswordCheck
            | Route::Publish
            | Route::HandOver
            | Route::AccountEmail
            | Route::DirectoryClaim
            | Route::DirectoryConfirm
            | Route::DirectoryRelease
            | Route::DirectoryLookup
            | Route::DirectoryBegin
            | Route::DirectoryEnd => Access::Internal,
        }
    }

    /// Which half answers it.
    pub fn server(&self) -> Server {
        match self {
            Route::Jwks
            | Route::RevocationJwks
            | Route::UpstreamJwks
            | Route::EdgeStats
            | Route::Me
            | Route::PasskeyLoginOptions => Server::Edge,
            Route::App => Server::Upstream,
            Route::Revocations | Route::Publish => Server::Feed,
            Route::DirectoryClaim
            | Route::DirectoryConfirm
            | Route::DirectoryRelease
            | Route::DirectoryLookup
            | Route::DirectoryBegin
            | Route::DirectoryEnd => Server::Directory,
            _ => Server::Origin,
        }
    }
}

impl Miss {
    /// The answer: 404 `not_found` or 405 `method_not_allowed` with `Allow`.
    pub fn into_error(self, method: &Method, path: &str) -> ApiError {
        match self {
            Miss::NotFound => ApiError::not_found(path),
            Miss::MethodNotAllowed(allow) => ApiError::method_not_allowed(method.as_ref(), allow),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_and_precedence() {
        assert_eq!(
            Route::at("/v1/sessions/s_1"),
            Some(Route::SignOutSession("s_1"))
        );
        assert_eq!(
            Route::at("/v1/sessions/sign-out-all"),
            Some(Route::SignOutAll)
        );
        assert_eq!(Route::at("/v1/sessions/"), None);
        assert_eq!(
            Route::at("/v1/admin/accounts/a/sessions/s"),
            Some(Route::AdminSignOutSession {
                account: "a",
                session: "s"
            })
        );
        assert_eq!(Route::at("/v1/admin/accounts//sessions"), None);
        assert_eq!(Route::at("/app"), Some(Route::App));
        assert_eq!(Route::at("/app/x/y"), Some(Route::App));
        assert_eq!(Route::at("/apps"), None);
        assert_eq!(Route::at("/v1/nope"), None);
    }

    #[test]
    fn methods_are_checked_after_the_path() {
        assert_eq!(
            Route::find(&Method::Get, "/v1/login"),
            Err(Miss::MethodNotAllowed("POST"))
        );
        assert_eq!(
            Route::find(&Method::Delete, "/v1/sessions/sign-out-all"),
            Err(Miss::MethodNotAllowed("POST"))
        );
        assert_eq!(Route::find(&Method::Get, "/nope"), Err(Miss::NotFound));
        // Two routes at one path: each method finds its own, and Allow names both.
        assert_eq!(Route::find(&Method::Post, "/v1/totp"), Ok(Route::TotpStart));
        assert_eq!(
            Route::find(&Method::Delete, "/v1/totp"),
            Ok(Route::TotpDisable)
        );
        assert_eq!(
            Route::find(&Method::Get, "/v1/totp"),
            Err(Miss::MethodNotAllowed("POST, DELETE"))
        );
        assert_eq!(Route::find(&Method::Patch, "/app/x"), Ok(Route::App));
        assert_eq!(
            Route::find(&Method::Get, "/v1/passkeys"),
            Ok(Route::Passkeys)
        );
        assert_eq!(
            Route::find(&Method::Post, "/v1/passkeys"),
            Ok(Route::PasskeyRegister)
        );
        assert_eq!(
            Route::find(&Method::Post, "/v1/passkeys/registration-options"),
            Ok(Route::PasskeyRegistrationOptions)
        );
        assert_eq!(
            Route::find(&Method::Patch, "/v1/passkeys/k1"),
            Ok(Route::PasskeyRename("k1"))
        );
        assert_eq!(
            Route::find(&Method::Delete, "/v1/passkeys/k1"),
            Ok(Route::PasskeyRemove("k1"))
        );
        assert_eq!(
            Route::find(&Method::Post, "/v1/passkeys/k1"),
            Err(Miss::MethodNotAllowed("PATCH, DELETE"))
        );
        assert_eq!(
            Route::find(&Method::Delete, "/v1/passkeys"),
            Err(Miss::MethodNotAllowed("GET, POST"))
        );
        let e = Miss::MethodNotAllowed("POST").into_error(&Method::Get, "/v1/login");
        assert_eq!((e.status(), e.code()), (405, "method_not_allowed"));
    }

    #[test]
    fn two_factor_changes_need_a_session() {
        for r in [Route::TotpStart, Route::TotpDisable, Route::TotpConfirm] {
            assert_eq!(
                (r.access(), r.server()),
                (Access::Token, Server::Origin),
                "{r:?}"
            );
        }
    }

    #[test]
    fn internal_routes_are_not_public() {
        for r in [Route::Touch, Route::PasswordCheck, Route::HandOver] {
            assert_eq!(r.access(), Access::Internal);
            assert_eq!(r.server(), Server::Origin);
        }
    }

    #[test]
    fn the_feed_answers_revocations_and_takes_publications_only_from_inside() {
        assert_eq!(Route::Revocations.server(), Server::Feed);
        assert_eq!(Route::Revocations.access(), Access::Public);
        assert_eq!(
            Route::find(&Method::Post, "/internal/publish"),
            Ok(Route::Publish)
        );
        assert_eq!(
            (Route::Publish.access(), Route::Publish.server()),
            (Access::Internal, Server::Feed)
        );
    }

    /// Every operation of `openapi.yaml` is a route with the same method and security.
    #[test]
    fn matches_openapi() {
        let spec = include_str!("../../../openapi.yaml");
        let paths = spec
            .split("\npaths:\n")
            .nth(1)
            .and_then(|s| s.split("\ncomponents:").next())
            .unwrap();
        let mut path = String::new();
        let mut operations = Vec::new();
        let mut lines = paths.lines().peekable();
        while let Some(line) = lines.next() {
            if let Some(p) = line.strip_prefix("  /") {
                path = format!("/{}", p.trim_end_matches(':'));
            } else if let Some(m) = line.strip_prefix("    ").and_then(|l| l.strip_suffix(':')) {
                if m.starts_with(' ') || m.contains(' ') {
                    continue;
                }
                // The operation's security: `[]` public, `admin`, or the default bearer.
                let mut security = "bearer";
                while let Some(next) = lines.peek() {
                    if next.starts_with("    ") && !next.starts_with("     ") {
                        break;
                    }
                    if next.starts_with("  /") {
                        break;
                    }
                    let next = lines.next().unwrap();
                    if next.trim() == "security: []" {
                        security = "public";
                    } else if next.trim() == "- admin: []" {
                        security = "admin";
                    }
                }
                operations.push((path.clone(), m.to_owned(), security));
            }
        }
        assert!(operations.len() > 15, "{operations:?}");
        for (path, method, security) in operations {
            if path == "/" {
                continue; // the page, served from www/ before the Worker runs
            }
            let concrete = path
                .replace("{id}", "s_1")
                .replace("{account}", "acct_1")
                .replace("{path}", "x");
            let m: Method = method.to_uppercase().into();
            let route =
                Route::find(&m, &concrete).unwrap_or_else(|e| panic!("{method} {path}: {e:?}"));
            let access = match route.access() {
                Access::Public => "public",
                Access::Token | Access::TokenOrTicket => "bearer",
                Access::Admin => "admin",
                Access::Internal => "internal",
            };
            assert_eq!(access, security, "{method} {path}");
        }
    }
}
