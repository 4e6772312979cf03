//! Mail to the account's owner through one outbox. A handler's [`Ctx::send`] renders the mail
//! (`mail/template.rs`) and writes it as an `outbox` row in the handler's own transaction, so a
//! mail exists exactly when the change that causes it does. Delivery never blocks a request:
//! once the handler returned, the object's alarm is set ([`Outbox::arm`]), and the alarm
//! ([`deliver_due`]) sends due rows through `MAIL_MODE`'s transport (`mail/deliver.rs`),
//! retrying failures with exponential backoff. In `dev` mode (the default) a row counts as
//! delivered at once, is printed in the log and stays readable at `GET /v1/admin/outbox`.

mod deliver;
mod template;

use std::cell::Cell;

use serde::Serialize;
use worker::{Env, Request, Response, SendEmail, State};

use super::ctx::{Ctx, Ready};
use super::store::{Listed, Store, MAX_ATTEMPTS};
use crate::config::{mail_address, MailSettings, MailTransport, MAIL_BINDING};
use crate::error::{ApiCode, ApiError};
use crate::host::now_secs;
use crate::http::json;
use crate::vocab::ActivityKind;

type R<T> = std::result::Result<T, ApiError>;

/// Mails delivered in one alarm run; more due ones get the next run, at once.
const BATCH: i64 = 10;
/// Messages `GET /v1/admin/outbox` lists at most.
const LISTED: i64 = 50;

/// What to tell the owner.
#[derive(Debug)]
pub(super) enum Mail<'a> {
    /// A re-authentication code (`POST /v1/reauth/email-code`).
    EmailCode { code: &'a str },
    /// A password-reset code.
    ResetCode { code: &'a str },
    /// "New sign-in — not you?": the device, its location and the secure-account link token.
    NewSignIn {
        device: &'a str,
        location: Option<&'a str>,
        at: i64,
        link: &'a str,
    },
    /// A sensitive change made to the account (2FA, recovery codes, password, email, secured).
    Security { event: ActivityKind },
    /// To the old address when the email changes.
    EmailChanged { new_email: &'a str },
}

/// The object's mail settings, and whether a request queued mail the alarm must deliver.
#[derive(Debug)]
pub(crate) struct Outbox {
    settings: MailSettings,
    /// Starts true so that the first request of an object instance arms the alarm for mail
    /// an earlier instance left undelivered.
    queued: Cell<bool>,
}

impl Outbox {
    /// From `MAIL_MODE` and the vars it needs; a wrong setting is 503 `not_configured`.
    pub(super) fn from_env(env: &Env) -> R<Self> {
        let settings = MailSettings::from_env(env)?;
        if settings.transport == MailTransport::SendEmail
            && env
                .get_binding::<SendEmail>(MAIL_BINDING)
                .map_or(true, |b| b.is_undefined())
        {
            return Err(ApiError::not_configured(format!(
                "MAIL_MODE is send_email but there is no send_email binding named {MAIL_BINDING} (wrangler.toml [[send_email]])"
            )));
        }
        Ok(Outbox {
            settings,
            queued: Cell::new(true),
        })
    }

    fn is_dev(&self) -> bool {
        self.settings.transport == MailTransport::Dev
    }

    /// After a request: when it queued mail, sets the alarm for the earliest due row. Its own
    /// failure is logged, not answered: the rows are committed and the next request or alarm
    /// arms again.
    pub(super) async fn arm(&self, state: &State, store: &Store) {
        if !self.queued.replace(false) {
            return;
        }
        let at = match store.next_mail_at() {
            Ok(Some(at)) => at,
            Ok(None) => return,
            Err(e) => {
                worker::console_error!("mail: cannot read the outbox: {}", e.log_line());
                self.queued.set(true);
                return;
            }
        };
        let when = worker::ScheduledTime::new(js_sys::Date::new(&(at as f64 * 1000.0).into()));
        if let Err(e) = state.storage().set_alarm(when).await {
            worker::console_error!("mail: cannot set the delivery alarm: {e}");
            self.queued.set(true);
        }
    }
}

/// The object's alarm: delivers the due mail, one attempt each, then arms the alarm for the
/// next due row. An attempt is counted (and its retry scheduled) before it is made, so a mail
/// is never sent twice by overlapping runs, and one whose run died is retried on schedule.
pub(super) async fn deliver_due(ready: &Ready, env: &Env, state: &State) {
    let (outbox, store) = (&ready.mail, &ready.store);
    let due = match store.due_mail(now_secs(), BATCH) {
        Ok(due) => due,
        Err(e) => {
            worker::console_error!("mail: cannot read the outbox: {}", e.log_line());
            Vec::new()
        }
    };
    // Production transports keep no text (with its codes) once it left or was given up.
    let forget = !outbox.is_dev();
    for mail in due {
        let attempts = mail.attempts + 1;
        let retry_at = now_secs() + deliver::retry_delay(outbox.settings.retry_seconds, attempts);
        match store.claim_mail(&mail, retry_at) {
            Ok(true) => {}
            // Another run claimed this attempt.
            Ok(false) => continue,
            Err(e) => {
                worker::console_error!("mail #{}: {}", mail.id, e.log_line());
                continue;
            }
        }
        let result = deliver::deliver(&outbox.settings, env, &mail).await;
        let written = match result {
            Ok(()) => {
                worker::console_log!("mail #{}: delivered (attempt {attempts})", mail.id);
                store.mail_sent(mail.id, now_secs(), forget)
            }
            Err(why) if attempts >= MAX_ATTEMPTS => {
                worker::console_error!(
                    "mail #{}: attempt {attempts} failed ({why}); given up",
                    mail.id
                );
                store.mail_failed(mail.id, &why, forget)
            }
            Err(why) => {
                worker::console_warn!(
                    "mail #{}: attempt {attempts} failed ({why}); retry in {} s",
                    mail.id,
                    retry_at - now_secs()
                );
                store.mail_failed(mail.id, &why, false)
            }
        };
        if let Err(e) = written {
            worker::console_error!("mail #{}: {}", mail.id, e.log_line());
        }
    }
    outbox.queued.set(true);
    outbox.arm(state, store).await;
}

#[derive(Serialize)]
struct Messages {
    messages: Vec<Listed>,
}

impl Ctx<'_> {
    /// Queues `mail` to `to` in the outbox, in the caller's transaction.
    pub(super) fn send(&self, to: &str, mail: Mail<'_>) -> R<()> {
        let outbox = &self.ready.mail;
        if mail_address(to) != Some(to) {
            // Sign-up and email change accept no such address: a row from elsewhere is logged
            // and skipped rather than failing the change that mails it.
            worker::console_error!("mail: not queued: the recipient is not a plain address");
            return Ok(());
        }
        let m = template::render(&mail, &outbox.settings.public_url, self.now, &self.client);
        let dev = outbox.is_dev();
        self.store()
            .queue_mail(to, &m.subject, &m.text, self.now, dev)?;
        if dev {
            worker::console_log!("mail (dev outbox) to {to}: {}\n{}", m.subject, m.text);
        } else {
            outbox.queued.set(true);
        }
        Ok(())
    }

    /// `GET /v1/admin/outbox?to=`: the newest mail, to `to` when given; `dev` mode only.
    pub(super) fn admin_outbox(&self, req: &Request) -> R<Response> {
        if !self.ready.mail.is_dev() {
            return Err(ApiError::new(
                ApiCode::NotFound,
                "the outbox is only kept readable when MAIL_MODE is dev",
            ));
        }
        let url = req.url()?;
        let to = url
            .query_pairs()
            .find(|(k, _)| k == "to")
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty());
        let messages = self.store().list_mail(to.as_deref(), LISTED)?;
        Ok(json(200, &Messages { messages })?)
    }
}
