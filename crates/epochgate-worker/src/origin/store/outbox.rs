//! The `outbox` table: every mail the origin sends, written in the transaction of the change
//! that causes it and delivered later by the object's alarm (`origin/mail.rs`). Subjects and
//! texts carry codes and links, so they are sealed with the data key (`sealed.rs`), bound to
//! their row's recipient and time.

use serde::{Deserialize, Serialize};

use super::{int, Store, R};

/// Delivery attempts after which a mail is given up (kept with its `last_error`).
pub(crate) const MAX_ATTEMPTS: i64 = 12;
/// How long a delivered or given-up mail is kept, seconds.
pub(crate) const OUTBOX_RETENTION: i64 = 7 * 24 * 3600;

/// A mail due for delivery.
#[derive(Debug, Deserialize)]
pub(crate) struct Due {
    pub(crate) id: i64,
    pub(crate) recipient: String,
    pub(crate) subject: String,
    pub(crate) text: String,
    pub(crate) created_at: i64,
    pub(crate) attempts: i64,
}

/// A mail as `GET /v1/admin/outbox` shows it.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct Listed {
    pub(crate) id: i64,
    pub(crate) to: String,
    pub(crate) subject: String,
    pub(crate) text: String,
    pub(crate) created_at: i64,
    pub(crate) sent_at: Option<i64>,
    pub(crate) attempts: i64,
}

#[derive(Deserialize)]
struct At {
    at: Option<i64>,
}

/// What a sealed outbox column is bound to.
fn aad(column: &str, recipient: &str, created_at: i64) -> String {
    format!("outbox.{column}:{recipient}:{created_at}")
}

impl Store {
    fn open_mail(&self, column: &str, recipient: &str, created_at: i64, value: &str) -> R<String> {
        Ok(self.key.open(value, &aad(column, recipient, created_at))?)
    }

    /// Queues a mail (`sent` when it counts as delivered at once) and forgets finished mail
    /// older than [`OUTBOX_RETENTION`].
    pub(crate) fn queue_mail(
        &self,
        recipient: &str,
        subject: &str,
        text: &str,
        now: i64,
        sent: bool,
    ) -> R<()> {
        self.run(
            "DELETE FROM outbox WHERE created_at < ? AND (sent_at IS NOT NULL OR attempts >= ?)",
            vec![int(now - OUTBOX_RETENTION), int(MAX_ATTEMPTS)],
        )?;
        self.run(
            "INSERT INTO outbox (recipient, subject, text, created_at, attempts, next_attempt_at, sent_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            vec![
                recipient.into(),
                self.key
                    .seal(subject, &aad("subject", recipient, now))?
                    .into(),
                self.key.seal(text, &aad("text", recipient, now))?.into(),
                int(now),
                int(i64::from(sent)),
                int(now),
                if sent { int(now) } else { None::<i64>.into() },
            ],
        )
    }

    /// Up to `limit` undelivered mails whose next attempt is due at `now`, oldest first.
    pub(crate) fn due_mail(&self, now: i64, limit: i64) -> R<Vec<Due>> {
        let rows: Vec<Due> = self.all(
            "SELECT id, recipient, subject, text, created_at, attempts FROM outbox \
             WHERE sent_at IS NULL AND attempts < ? AND next_attempt_at <= ? \
             ORDER BY next_attempt_at, id LIMIT ?",
            vec![int(MAX_ATTEMPTS), int(now), int(limit)],
        )?;
        rows.into_iter()
            .map(|mut d| {
                d.subject = self.open_mail("subject", &d.recipient, d.created_at, &d.subject)?;
                d.text = self.open_mail("text", &d.recipient, d.created_at, &d.text)?;
                Ok(d)
            })
            .collect()
    }

    /// Counts an attempt before it is made, and schedules the next one for when it fails (or
    /// the attempt never reports back). Only one claim of a mail's `attempts`-th attempt
    /// succeeds (`false` for the others), so a mail is never in flight twice.
    pub(crate) fn claim_mail(&self, due: &Due, next_attempt_at: i64) -> R<bool> {
        // Rows written count index entries too: any is a claim, none is someone else's.
        Ok(self.written(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? \
             WHERE id = ? AND attempts = ? AND sent_at IS NULL",
            vec![int(next_attempt_at), int(due.id), int(due.attempts)],
        )? > 0)
    }

    /// Records a delivery; `forget_text` drops the text (with its codes) once it left.
    pub(crate) fn mail_sent(&self, id: i64, now: i64, forget_text: bool) -> R<()> {
        self.run(
            "UPDATE outbox SET sent_at = ?, last_error = NULL, \
             text = CASE WHEN ? THEN '' ELSE text END WHERE id = ?",
            vec![int(now), int(i64::from(forget_text)), int(id)],
        )
    }

    /// Records a failed attempt; `forget_text` drops the text of a mail given up.
    pub(crate) fn mail_failed(&self, id: i64, error: &str, forget_text: bool) -> R<()> {
        self.run(
            "UPDATE outbox SET last_error = ?, text = CASE WHEN ? THEN '' ELSE text END WHERE id = ?",
            vec![error.into(), int(i64::from(forget_text)), int(id)],
        )
    }

    /// When the next undelivered mail is due, if any is.
    pub(crate) fn next_mail_at(&self) -> R<Option<i64>> {
        let at: Option<At> = self.first(
            "SELECT MIN(next_attempt_at) AS at FROM outbox WHERE sent_at IS NULL AND attempts < ?",
            vec![int(MAX_ATTEMPTS)],
        )?;
        Ok(at.and_then(|a| a.at))
    }

    /// The newest `limit` mails, to `to` (ASCII case-insensitive) when given.
    pub(crate) fn list_mail(&self, to: Option<&str>, limit: i64) -> R<Vec<Listed>> {
        let cols = "SELECT id, recipient AS \"to\", subject, text, created_at, sent_at, attempts FROM outbox";
        let rows: Vec<Listed> = match to {
            Some(to) => self.all(
                &format!("{cols} WHERE lower(recipient) = lower(?) ORDER BY id DESC LIMIT ?"),
                vec![to.into(), int(limit)],
            ),
            None => self.all(
                &format!("{cols} ORDER BY id DESC LIMIT ?"),
                vec![int(limit)],
            ),
        }?;
        rows.into_iter()
            .map(|mut l| {
                l.subject = self.open_mail("subject", &l.to, l.created_at, &l.subject)?;
                l.text = self.open_mail("text", &l.to, l.created_at, &l.text)?;
                Ok(l)
            })
            .collect()
    }
}
