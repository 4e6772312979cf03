//! Step-up rules for the application's routes (`STEP_UP`): only the edge knows which routes of
//! `/app` are sensitive, so it asks a valid token for a recent or a strong enough authentication
//! there — its `auth_time` and `amr` claims — without a call home (RFC 9470).
//!
//! `STEP_UP` is a JSON object from a path prefix under `/app` to `{max_age?, amr?}`, e.g.
//! `{"/app/payments": {"max_age": 300, "amr": ["hwk"]}}`. The longest prefix that matches at a
//! `/` boundary applies (`/app/payments` covers `/app/payments` and `/app/payments/refund`, not
//! `/app/paymentsx`). The check itself is the core's [`epochgate::StepUp`].

use std::collections::BTreeMap;

use epochgate::StepUp;
use serde::Deserialize;

use crate::error::ApiError;

/// At most this many rules, methods per rule, and bytes per prefix.
const MAX_RULES: usize = 64;
const MAX_METHODS: usize = 8;
const MAX_PREFIX: usize = 256;

/// The deployment's rules, longest prefix first.
#[derive(Clone, Debug, Default)]
pub struct StepUpRules(Vec<(String, StepUp)>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleIn {
    max_age: Option<u64>,
    amr: Option<Vec<String>>,
}

fn bad(m: impl Into<String>) -> ApiError {
    ApiError::not_configured(format!("STEP_UP: {}", m.into()))
}

impl StepUpRules {
    /// Parses `STEP_UP` (`None`: no rules).
    pub fn parse(text: Option<&str>) -> Result<Self, ApiError> {
        let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(StepUpRules::default());
        };
        let raw: BTreeMap<String, RuleIn> = serde_json::from_str(text).map_err(|e| {
            bad(format!(
                "{e}; it must be a JSON object like {{\"/app/payments\": {{\"max_age\": 300, \"amr\": [\"hwk\"]}}}}"
            ))
        })?;
        if raw.len() > MAX_RULES {
            return Err(bad(format!("at most {MAX_RULES} rules")));
        }
        let mut rules = Vec::new();
        for (prefix, r) in raw {
            let trimmed = prefix.trim_end_matches('/');
            if !(trimmed == "/app" || trimmed.starts_with("/app/"))
                || prefix.len() > MAX_PREFIX
                || prefix.contains(['?', '#', ' '])
            {
                return Err(bad(format!(
                    "{prefix:?} is not a path under /app (at most {MAX_PREFIX} bytes)"
                )));
            }
            let amr = r.amr.unwrap_or_default();
            if amr.len() > MAX_METHODS
                || amr.iter().any(|m| {
                    m.is_empty() || m.len() > 32 || !m.bytes().all(|b| b.is_ascii_graphic())
                })
            {
                return Err(bad(format!(
                    "{prefix:?}: amr must be at most {MAX_METHODS} method names such as \"hwk\""
                )));
            }
            if r.max_age.is_none() && amr.is_empty() {
                return Err(bad(format!(
                    "{prefix:?} asks for nothing: give max_age or amr"
                )));
            }
            rules.push((
                trimmed.to_owned(),
                StepUp {
                    max_age: r.max_age,
                    required_amr: amr,
                },
            ));
        }
        rules.sort_by_key(|r| std::cmp::Reverse(r.0.len()));
        Ok(StepUpRules(rules))
    }

    /// The rule for `path`, if one applies.
    pub fn rule_for(&self, path: &str) -> Option<&StepUp> {
        self.0
            .iter()
            .find(|(prefix, _)| {
                path.strip_prefix(prefix.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            })
            .map(|(_, rule)| rule)
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_prefix_at_a_segment_boundary_applies() {
        let rules = StepUpRules::parse(Some(
            r#"{"/app/payments": {"max_age": 300, "amr": ["hwk"]}, "/app/payments/limits/": {"max_age": 60}, "/app": {"max_age": 86400}}"#,
        ))
        .unwrap();
        let age = |p: &str| rules.rule_for(p).map(|r| r.max_age);
        assert_eq!(age("/app/payments"), Some(Some(300)));
        assert_eq!(age("/app/payments/refund"), Some(Some(300)));
        assert_eq!(age("/app/payments/limits"), Some(Some(60)));
        assert_eq!(age("/app/payments/limits/x"), Some(Some(60)));
        assert_eq!(age("/app/paymentsx"), Some(Some(86400)));
        assert_eq!(age("/app"), Some(Some(86400)));
        assert_eq!(age("/application"), None);
        assert_eq!(
            rules.rule_for("/app/payments").unwrap().required_amr,
            ["hwk"]
        );
    }

    #[test]
    fn no_rules_when_unset() {
        assert!(StepUpRules::parse(None).unwrap().is_empty());
        assert!(StepUpRules::parse(Some("  ")).unwrap().is_empty());
        assert!(StepUpRules::parse(None)
            .unwrap()
            .rule_for("/app/payments")
            .is_none());
    }

    #[test]
    fn bad_rules_name_what_is_wrong() {
        for bad in [
            "[]",
            "{",
            r#"{"/v1/me": {"max_age": 1}}"#,
            r#"{"/appx": {"max_age": 1}}"#,
            r#"{"/app/a": {}}"#,
            r#"{"/app/a": {"max_age": -1}}"#,
            r#"{"/app/a": {"amr": [""]}}"#,
            r#"{"/app/a": {"amr": "hwk"}}"#,
            r#"{"/app/a": {"max_age": 1, "acr": "x"}}"#,
            r#"{"/app/a?x": {"max_age": 1}}"#,
        ] {
            let e = StepUpRules::parse(Some(bad)).unwrap_err();
            assert_eq!(e.code(), "not_configured", "{bad}");
            assert!(e.message().starts_with("STEP_UP"), "{bad}");
        }
    }
}
