//! Delivery of one queued mail through the configured transport, the retry schedule, and the
//! RFC 5322 message the `send_email` binding takes.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use futures_util::future::{select, Either};
use serde::Serialize;
use worker::{
    AbortController, Delay, EmailMessage, Env, Fetch, Headers, Method, Request, RequestInit,
    SendEmail,
};

use super::super::store::Due;
use super::template::civil;
use crate::config::{mail_address, MailSettings, MailTransport, MAIL_BINDING};

/// The longest wait between two attempts, seconds.
pub(crate) const MAX_RETRY_DELAY: i64 = 3600;
/// How long one HTTP delivery may take before it counts as failed.
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);

/// Seconds from failed attempt number `attempts` (1 for the first) to the next:
/// `base × 2^(attempts − 1)`, at most [`MAX_RETRY_DELAY`].
pub(crate) fn retry_delay(base: i64, attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    base.max(1)
        .saturating_mul(1_i64 << doublings)
        .min(MAX_RETRY_DELAY)
}

#[derive(Serialize)]
struct HttpMail<'a> {
    from: &'a str,
    to: &'a str,
    subject: &'a str,
    text: &'a str,
}

/// Delivers `mail` once; `Err` says why it failed (never the mail's text).
pub(crate) async fn deliver(settings: &MailSettings, env: &Env, mail: &Due) -> Result<(), String> {
    match &settings.transport {
        MailTransport::Dev => {
            worker::console_log!(
                "mail (dev outbox) #{} to {}: {}\n{}",
                mail.id,
                mail.recipient,
                mail.subject,
                mail.text
            );
            Ok(())
        }
        MailTransport::Http { url, key } => {
            let body = serde_json::to_string(&HttpMail {
                from: &settings.from,
                to: &mail.recipient,
                subject: &mail.subject,
                text: &mail.text,
            })
            .map_err(|e| e.to_string())?;
            let headers = Headers::new();
            let set = |k: &str, v: &str| headers.set(k, v).map_err(|e| e.to_string());
            set("content-type", "application/json")?;
            set("authorization", &format!("Bearer {}", key.0))?;
            // The same key on every attempt of one mail: an API that honours it sends it once.
            set("idempotency-key", &message_key(mail))?;
            let mut init = RequestInit::new();
            init.with_method(Method::Post)
                .with_headers(headers)
                .with_body(Some(body.into()));
            let req = Request::new_with_init(url, &init).map_err(|e| e.to_string())?;
            let abort = AbortController::default();
            let signal = abort.signal();
            let fetch = Fetch::Request(req);
            let sent = std::pin::pin!(fetch.send_with_signal(&signal));
            let outcome = match select(sent, Delay::from(HTTP_TIMEOUT)).await {
                Either::Left((Ok(resp), _)) if (200..300).contains(&resp.status_code()) => Ok(()),
                Either::Left((Ok(resp), _)) => Err(format!("HTTP {}", resp.status_code())),
                Either::Left((Err(e), _)) => Err(format!("network: {e}")),
                Either::Right(_) => {
                    abort.abort();
                    Err(format!("no answer in {} s", HTTP_TIMEOUT.as_secs()))
                }
            };
            outcome
        }
        MailTransport::SendEmail => {
            let from = mail_address(&settings.from).ok_or("MAIL_FROM has no address")?;
            let raw = raw_message(&settings.from, from, mail)?;
            let message = EmailMessage::new(from, &mail.recipient, &raw)
                .map_err(|e| format!("send_email: {}", String::from(e.message())))?;
            let binding: SendEmail = env
                .get_binding(MAIL_BINDING)
                .map_err(|e| format!("send_email binding {MAIL_BINDING}: {e}"))?;
            binding
                .send(&message)
                .await
                .map(|_| ())
                .map_err(|e| format!("send_email: {}", String::from(e.message())))
        }
    }
}

/// A stable identifier of one queued mail.
fn message_key(mail: &Due) -> String {
    format!("epochgate-{}-{}", mail.created_at, mail.id)
}

/// The RFC 5322 message: `From`, `To`, `Subject` (RFC 2047 when not ASCII), `Date`,
/// `Message-ID`, and the text as UTF-8 in base64 (CRLF lines, none too long).
pub(crate) fn raw_message(
    from_header: &str,
    from_address: &str,
    mail: &Due,
) -> Result<String, String> {
    if mail_address(&mail.recipient) != Some(mail.recipient.as_str()) {
        return Err("the recipient is not a plain address".into());
    }
    let domain = from_address.rsplit('@').next().unwrap_or("localhost");
    let text = mail.text.replace("\r\n", "\n").replace('\n', "\r\n");
    let body = B64.encode(text.as_bytes());
    let mut out = String::new();
    out.push_str(&format!("From: {from_header}\r\n"));
    out.push_str(&format!("To: {}\r\n", mail.recipient));
    out.push_str(&format!("Subject: {}\r\n", encode_header(&mail.subject)));
    out.push_str(&format!("Date: {}\r\n", rfc5322_date(mail.created_at)));
    out.push_str(&format!("Message-ID: <{}@{domain}>\r\n", message_key(mail)));
    out.push_str("MIME-Version: 1.0\r\n");
    out.push_str("Content-Type: text/plain; charset=utf-8\r\n");
    out.push_str("Content-Transfer-Encoding: base64\r\n\r\n");
    for line in body.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(line).map_err(|e| e.to_string())?);
        out.push_str("\r\n");
    }
    Ok(out)
}

/// A header value: as is when printable ASCII, else RFC 2047 `=?UTF-8?B?…?=` words of whole
/// characters, folded onto continuation lines.
fn encode_header(value: &str) -> String {
    let value: String = value.chars().filter(|c| !c.is_control()).collect();
    if value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return value;
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in value.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(format!("=?UTF-8?B?{}?=", B64.encode(chunk.as_bytes())));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", B64.encode(chunk.as_bytes())));
    }
    words.join("\r\n ")
}

/// `Wed, 02 Dec 2026 01:16:51 +0000`.
fn rfc5322_date(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs.div_euclid(86_400);
    let s = secs.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    let weekday = DAYS
        .get(usize::try_from(days.rem_euclid(7)).unwrap_or(0))
        .unwrap_or(&"Thu");
    let month = MONTHS
        .get(usize::try_from(m - 1).unwrap_or(0))
        .unwrap_or(&"Jan");
    format!(
        "{weekday}, {d:02} {month} {y:04} {:02}:{:02}:{:02} +0000",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(subject: &str, text: &str) -> Due {
        Due {
            id: 7,
            recipient: "alice@example.com".into(),
            subject: subject.into(),
            text: text.into(),
            created_at: 1_796_174_211,
            attempts: 0,
        }
    }

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        let delays: Vec<i64> = (1..=12).map(|n| retry_delay(10, n)).collect();
        assert_eq!(
            delays,
            [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600, 3600]
        );
        assert_eq!(retry_delay(1, 1), 1);
        assert_eq!(retry_delay(1, 3), 4);
        assert_eq!(retry_delay(10, 0), 10);
        assert_eq!(retry_delay(10, i64::MAX), 3600);
        assert_eq!(retry_delay(0, 1), 1);
        // Twelve attempts span about three and a half hours.
        assert_eq!(delays.iter().take(11).sum::<i64>(), 12_310);
    }

    #[test]
    fn dates() {
        assert_eq!(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(
            rfc5322_date(1_796_174_211),
            "Wed, 02 Dec 2026 01:16:51 +0000"
        );
        assert_eq!(rfc5322_date(951_825_600), "Tue, 29 Feb 2000 12:00:00 +0000");
    }

    #[test]
    fn a_raw_message_has_the_headers_send_email_needs() {
        let raw = raw_message(
            "epochgate <no-reply@acme.example>",
            "no-reply@acme.example",
            &due("New sign-in \u{2014} not you?", "Line one\nCode 123456\n"),
        )
        .unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        let lines: Vec<&str> = head.split("\r\n").collect();
        assert!(lines.contains(&"From: epochgate <no-reply@acme.example>"));
        assert!(lines.contains(&"To: alice@example.com"));
        assert!(lines.contains(&"Date: Wed, 02 Dec 2026 01:16:51 +0000"));
        assert!(lines.contains(&"Message-ID: <epochgate-1796174211-7@acme.example>"));
        assert!(lines.contains(&"Content-Type: text/plain; charset=utf-8"));
        let subject = lines.iter().find(|l| l.starts_with("Subject: ")).unwrap();
        assert!(subject.starts_with("Subject: =?UTF-8?B?"));
        assert!(raw.split("\r\n").all(|l| l.len() <= 78), "{raw}");
        let decoded = B64.decode(body.replace("\r\n", "")).unwrap();
        assert_eq!(
            String::from_utf8(decoded).unwrap(),
            "Line one\r\nCode 123456\r\n"
        );
        assert!(
            !raw.replace("\r\n", "").contains('\n'),
            "only CRLF line ends"
        );
    }

    #[test]
    fn headers_cannot_be_injected() {
        let mut m = due("s", "t");
        m.recipient = "alice@example.com\r\nBcc: eve@example.com".into();
        assert!(raw_message("a@b.example", "a@b.example", &m).is_err());
        assert_eq!(encode_header("Hi\r\nBcc: x"), "HiBcc: x");
        let long = "\u{e9}".repeat(60);
        let folded = encode_header(&long);
        assert_eq!(folded.split("\r\n ").count(), 3);
        for word in folded.split("\r\n ") {
            assert!(word.len() <= 75);
            let inner = word.trim_start_matches("=?UTF-8?B?").trim_end_matches("?=");
            assert!(String::from_utf8(B64.decode(inner).unwrap()).is_ok());
        }
    }
}
