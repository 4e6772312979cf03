//! What each [`Mail`] says: a subject and a plain-text body. Times are UTC; the device, its
//! location and address are given when known. Client-supplied words (device names, user
//! agents) are cleaned and shortened, and quoted, so a sign-in cannot write the owner's mail.

use super::super::account::EMAIL_CODE_TTL;
use super::super::recovery::{LINK_TTL, RESET_TTL};
use super::super::store::ClientInfo;
use super::Mail;
use crate::vocab::ActivityKind;

/// A rendered mail.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Rendered {
    pub(crate) subject: String,
    pub(crate) text: String,
}

/// Renders `mail`, sent at `now` because of a request from `client`; links point into
/// `public_url` (no trailing slash).
pub(crate) fn render(mail: &Mail<'_>, public_url: &str, now: i64, client: &ClientInfo) -> Rendered {
    let page = format!("{public_url}/");
    let not_you =
        format!("If this was not you, open {page}, reset your password and sign out all devices.");
    let (subject, body) = match mail {
        Mail::EmailCode { code } => (
            format!("Your epochgate code is {code}"),
            format!(
                "Your epochgate code is {code}\n\n\
                 Enter it where you were asked to confirm it is you. It works once and expires in \
                 {}.\n\n\
                 It was requested from a device signed in to your account:\n{}\n\
                 If you did not ask for it, someone else is signed in to your account: nothing \
                 changes without this code. Do not share it; {}",
                duration(EMAIL_CODE_TTL),
                details(now, client),
                lower_first(&not_you),
            ),
        ),
        Mail::ResetCode { code } => (
            format!("Your epochgate password reset code is {code}"),
            format!(
                "Your epochgate password reset code is {code}\n\n\
                 Enter it with your new password at {page} to finish resetting your password. \
                 Every device signed in to your account will be signed out. It works once and \
                 expires in {}.\n\n\
                 Requested:\n{}\n\
                 If you did not ask for it, you can ignore this mail: your password stays as it \
                 is. Do not share this code.",
                duration(RESET_TTL),
                details(now, client),
            ),
        ),
        Mail::NewSignIn {
            device,
            location,
            at,
            link,
        } => {
            let sign_in = ClientInfo {
                location: location.map(str::to_owned),
                ..client.clone()
            };
            (
                "New sign-in to your epochgate account \u{2014} not you?".to_owned(),
                // The link comes before anything the signing-in client chose.
                format!(
                    "Your epochgate account was just signed in to from a device or place it was \
                     not signed in from before. If this was you, there is nothing to do.\n\n\
                     If it was not you, secure your account now:\n\
                     {public_url}/#secure-account={link}\n\n\
                     This signs out every device, including the new one, and asks for a new \
                     password (a reset code will be mailed here) before the next sign-in. The \
                     link works once, for {}.\n\n\
                     The sign-in:\n\
                     Device name: \"{}\"\n{}",
                    duration(LINK_TTL),
                    clean(device, 60),
                    details(*at, &sign_in),
                ),
            )
        }
        Mail::Security { event } => {
            let (subject, what) = security(*event);
            (
                subject.to_owned(),
                format!("{what}\n\n{}\n{not_you}", details(now, client)),
            )
        }
        Mail::EmailChanged { new_email } => (
            "Your epochgate email address was changed".to_owned(),
            format!(
                "The email address of your epochgate account was changed from this address to \
                 {}. Sign-in codes and security notices will go there from now on.\n\n{}\n\
                 If this was not you, sign in at {page} while you still can and change it back, \
                 then reset your password and sign out all devices.",
                clean(new_email, 254),
                details(now, client),
            ),
        ),
    };
    Rendered {
        subject,
        text: format!("{}\n\n\u{2014} epochgate\n", body.trim_end()),
    }
}

/// The subject and first paragraph of a security notice.
fn security(event: ActivityKind) -> (&'static str, &'static str) {
    match event {
        ActivityKind::TotpEnabled => (
            "Two-factor authentication was turned on",
            "Two-factor authentication was turned on for your epochgate account: signing in now \
             also needs a code from your authenticator app, or one of your recovery codes.",
        ),
        ActivityKind::TotpDisabled => (
            "Two-factor authentication was turned off",
            "Two-factor authentication was turned off for your epochgate account: signing in now \
             needs only your password.",
        ),
        ActivityKind::RecoveryCodesGenerated => (
            "New recovery codes were generated",
            "A new set of recovery codes was generated for your epochgate account. The previous \
             codes no longer work.",
        ),
        ActivityKind::RecoveryCodeUsed => (
            "A recovery code was used",
            "One of your epochgate recovery codes was used in place of a two-factor code; it \
             cannot be used again. Generate a new set from your account page when few are left.",
        ),
        ActivityKind::PasswordChanged => (
            "Your password was changed",
            "The password of your epochgate account was changed, and your other devices were \
             signed out.",
        ),
        ActivityKind::PasswordReset => (
            "Your password was reset",
            "The password of your epochgate account was reset with a code mailed to this \
             address, and every device was signed out.",
        ),
        ActivityKind::EmailChanged => (
            "This is now your epochgate email address",
            "The email address of your epochgate account was changed to this address: sign-in \
             codes and security notices will come here.",
        ),
        ActivityKind::AccountSecured => (
            "Your epochgate account was secured",
            "Someone followed the \"not you?\" link of a sign-in alert: every device was signed \
             out, and a new password must be set before the next sign-in (the reset code comes \
             in a separate mail).",
        ),
        ActivityKind::PasskeyAdded => (
            "A passkey was added to your account",
            "A passkey was added to your epochgate account: it can now sign in without the \
             password. If this was not you, remove it from your account page and change your \
             password.",
        ),
        ActivityKind::PasskeyRemoved => (
            "A passkey was removed from your account",
            "A passkey was removed from your epochgate account; it can no longer sign in.",
        ),
        ActivityKind::PasskeyCounterRegressed => (
            "A passkey sign-in was refused",
            "A sign-in with one of your passkeys was refused because its authenticator's \
             counter went back, which can mean the passkey was copied. Remove it from your \
             account page if you do not recognise this.",
        ),
        ActivityKind::SignOutAll => (
            "Every device was signed out",
            "Every device signed in to your epochgate account was signed out.",
        ),
        _ => (
            "Security activity on your epochgate account",
            "There was security activity on your epochgate account.",
        ),
    }
}

/// When and from where, one `Label: value` line each, the unknown ones left out.
fn details(at: i64, client: &ClientInfo) -> String {
    let mut out = format!("Time: {}\n", utc(at));
    if let Some(ua) = client.user_agent.as_deref() {
        out.push_str(&format!("Browser: {}\n", browser(ua)));
    }
    if let Some(l) = client.location.as_deref() {
        out.push_str(&format!("Location: {}\n", clean(l, 60)));
    }
    if let Some(ip) = client.ip.as_deref() {
        out.push_str(&format!("IP address: {}\n", clean(ip, 45)));
    }
    out
}

/// `2026-12-02 01:16 UTC`.
pub(crate) fn utc(secs: i64) -> String {
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        s / 3600,
        s % 3600 / 60
    )
}

/// Year, month, day of a day number since 1970-01-01 (proleptic Gregorian; H. Hinnant's
/// `civil_from_days`).
pub(crate) fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// "10 minutes", "1 hour", "7 days".
fn duration(secs: i64) -> String {
    let (n, unit) = if secs % 86_400 == 0 {
        (secs / 86_400, "day")
    } else if secs % 3600 == 0 {
        (secs / 3600, "hour")
    } else {
        ((secs + 59) / 60, "minute")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// A short name for a user agent ("Firefox on Linux"), else the cleaned, shortened agent.
fn browser(ua: &str) -> String {
    let has = |s: &str| ua.contains(s);
    let name = if has("Edg/") {
        Some("Edge")
    } else if has("OPR/") {
        Some("Opera")
    } else if has("Firefox/") {
        Some("Firefox")
    } else if has("Chrome/") || has("Chromium/") {
        Some("Chrome")
    } else if has("Safari/") && has("Version/") {
        Some("Safari")
    } else {
        None
    };
    let os = if has("iPhone") || has("iPad") {
        Some("iOS")
    } else if has("Android") {
        Some("Android")
    } else if has("Windows") {
        Some("Windows")
    } else if has("CrOS") {
        Some("ChromeOS")
    } else if has("Mac OS X") || has("Macintosh") {
        Some("macOS")
    } else if has("Linux") {
        Some("Linux")
    } else {
        None
    };
    match (name, os) {
        (Some(n), Some(o)) => format!("{n} on {o}"),
        (Some(n), None) => n.to_owned(),
        _ => format!("\"{}\"", clean(ua, 80)),
    }
}

/// `s` without control characters, runs of whitespace folded, at most `max` characters.
fn clean(s: &str, max: usize) -> String {
    let folded = s
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if folded.chars().count() <= max {
        folded
    } else {
        let mut cut: String = folded.chars().take(max.saturating_sub(1)).collect();
        cut.push('\u{2026}');
        cut
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://acme.example";
    // 2026-12-02 01:16:51 UTC
    const NOW: i64 = 1_796_174_211;

    fn client() -> ClientInfo {
        ClientInfo {
            ip: Some("203.0.113.9".into()),
            location: Some("Lisbon, PT".into()),
            user_agent: Some(
                "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0".into(),
            ),
        }
    }

    fn code_in(text: &str) -> Vec<&str> {
        text.split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit()))
            .collect()
    }

    #[test]
    fn dates_are_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(NOW), "2026-12-02 01:16 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc(-1), "1969-12-31 23:59 UTC");
        assert_eq!(civil(19_723), (2024, 1, 1));
    }

    #[test]
    fn codes_are_the_only_six_digit_words() {
        for mail in [
            Mail::EmailCode { code: "042917" },
            Mail::ResetCode { code: "042917" },
        ] {
            let r = render(&mail, URL, NOW, &client());
            assert_eq!(code_in(&r.text), ["042917"], "{}", r.text);
            assert!(r.subject.contains("042917"));
            assert!(r.text.contains("2026-12-02 01:16 UTC"));
            assert!(r.text.contains("Firefox on Linux"));
            assert!(r.text.contains("Lisbon, PT"));
        }
        let r = render(&Mail::EmailCode { code: "000001" }, URL, NOW, &client());
        assert!(r.text.contains("expires in 10 minutes"), "{}", r.text);
        let r = render(&Mail::ResetCode { code: "000001" }, URL, NOW, &client());
        assert!(r.text.contains("expires in 15 minutes"), "{}", r.text);
    }

    #[test]
    fn a_new_sign_in_carries_the_link_device_place_and_time() {
        let r = render(
            &Mail::NewSignIn {
                device: "Work\r\nlaptop",
                location: Some("Porto, PT"),
                at: NOW - 60,
                link: "acc_1.AbC-_9",
            },
            URL,
            NOW,
            &client(),
        );
        assert_eq!(
            r.subject,
            "New sign-in to your epochgate account \u{2014} not you?"
        );
        assert!(r
            .text
            .contains("https://acme.example/#secure-account=acc_1.AbC-_9\n"));
        assert!(
            r.text.find("#secure-account=") < r.text.find("Device name"),
            "the link comes before anything the client chose"
        );
        assert!(
            r.text.contains("Device name: \"Work laptop\""),
            "{}",
            r.text
        );
        assert!(r.text.contains("Location: Porto, PT"));
        assert!(!r.text.contains("Lisbon"));
        assert!(r.text.contains("2026-12-02 01:15 UTC"));
        assert!(r.text.contains("for 7 days"));
        assert!(code_in(&r.text).is_empty());
    }

    #[test]
    fn unknown_details_are_left_out() {
        let r = render(
            &Mail::Security {
                event: ActivityKind::TotpDisabled,
            },
            URL,
            NOW,
            &ClientInfo::default(),
        );
        assert_eq!(r.subject, "Two-factor authentication was turned off");
        assert!(!r.text.contains("Location") && !r.text.contains("Browser"));
        assert!(r.text.contains("Time: 2026-12-02 01:16 UTC"));
        assert!(r.text.contains("open https://acme.example/,"));
    }

    #[test]
    fn every_sensitive_change_has_its_own_notice() {
        let kinds = [
            ActivityKind::TotpEnabled,
            ActivityKind::TotpDisabled,
            ActivityKind::RecoveryCodesGenerated,
            ActivityKind::RecoveryCodeUsed,
            ActivityKind::PasswordChanged,
            ActivityKind::PasswordReset,
            ActivityKind::EmailChanged,
            ActivityKind::AccountSecured,
            ActivityKind::PasskeyAdded,
            ActivityKind::PasskeyRemoved,
            ActivityKind::PasskeyCounterRegressed,
        ];
        let subjects: std::collections::HashSet<String> = kinds
            .iter()
            .map(|&event| render(&Mail::Security { event }, URL, NOW, &client()).subject)
            .collect();
        assert_eq!(subjects.len(), kinds.len());
        assert!(!subjects.contains("Security activity on your epochgate account"));
        let r = render(
            &Mail::EmailChanged {
                new_email: "new@acme.example",
            },
            URL,
            NOW,
            &client(),
        );
        assert!(r.text.contains("to new@acme.example."));
    }

    #[test]
    fn paragraphs_are_separated_by_one_blank_line() {
        let link = Mail::NewSignIn {
            device: "d",
            location: None,
            at: NOW,
            link: "t",
        };
        for mail in [
            Mail::EmailCode { code: "123456" },
            Mail::ResetCode { code: "123456" },
            link,
            Mail::Security {
                event: ActivityKind::AccountSecured,
            },
            Mail::EmailChanged {
                new_email: "n@x.example",
            },
        ] {
            for c in [client(), ClientInfo::default()] {
                let r = render(&mail, URL, NOW, &c);
                assert!(!r.text.contains("\n\n\n"), "{}", r.text);
                assert!(r.text.ends_with("\n\n\u{2014} epochgate\n"));
                assert!(!r.subject.contains('\n'));
            }
        }
    }

    #[test]
    fn client_words_are_cleaned() {
        assert_eq!(clean(" a \t b\u{7}c ", 10), "a b c");
        assert_eq!(clean("abcdef", 4), "abc\u{2026}");
        assert_eq!(browser("curl/8.5.0"), "\"curl/8.5.0\"");
        assert_eq!(
            browser("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"),
            "Edge on Windows"
        );
        assert_eq!(
            browser("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"),
            "Safari on iOS"
        );
        assert_eq!(duration(600), "10 minutes");
        assert_eq!(duration(3600), "1 hour");
        assert_eq!(duration(7 * 86_400), "7 days");
    }
}
