//! One source for the shared vocabulary: every copy of the token reasons, error codes, session
//! statuses and activity kinds — in the wasm package's TypeScript types, the page, `openapi.yaml`,
//! the contract and the tests that list them — must equal the lists in code (the core's
//! `Reason::ALL` and `Error::all_codes()`, the Worker's `ApiCode::ALL`, `SessionStatus::ALL` and
//! `ActivityKind::ALL`). A failure names the file and the missing or extra words.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use epochgate::{Error, Reason};
use epochgate_worker::{ActivityKind, ApiCode, SessionStatus};

type Words = BTreeSet<String>;

fn read(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The text of `file` from `start` (which must occur once) to the first `end` after it.
fn section<'a>(file: &str, text: &'a str, start: &str, end: &str) -> &'a str {
    let mut found = text.match_indices(start);
    let (at, _) = found
        .next()
        .unwrap_or_else(|| panic!("{file}: {start:?} not found"));
    assert!(found.next().is_none(), "{file}: {start:?} occurs twice");
    let rest = &text[at + start.len()..];
    let stop = rest
        .find(end)
        .unwrap_or_else(|| panic!("{file}: no {end:?} after {start:?}"));
    &rest[..stop]
}

/// Every snake_case word quoted with `"`, `'` or backticks in `text`.
fn quoted(text: &str) -> Words {
    let mut words = Words::new();
    for quote in ['"', '\'', '`'] {
        for (i, part) in text.split(quote).enumerate() {
            if i % 2 == 1 && is_word(part) {
                words.insert(part.to_owned());
            }
        }
    }
    words
}

fn is_word(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') && !s.starts_with('_')
}

/// The words of a YAML flow list `enum: [a, b, c]` that follows `start` in `openapi.yaml`.
fn openapi_enum(text: &str, start: &str) -> Words {
    let mut found = text.match_indices(start);
    let (at, _) = found
        .next()
        .unwrap_or_else(|| panic!("openapi.yaml: {start:?} not found"));
    assert!(
        found.next().is_none(),
        "openapi.yaml: {start:?} occurs twice"
    );
    let list = text[at..]
        .split_once("enum: [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .unwrap_or_else(|| panic!("openapi.yaml: no enum after {start:?}"))
        .0;
    list.split(',').map(|w| w.trim().to_owned()).collect()
}

/// The keys of a JS object literal `{ key: 'label', ... }` after `start`.
fn object_keys(file: &str, text: &str, start: &str) -> Words {
    section(file, text, start, "});")
        .lines()
        .filter_map(|line| line.trim().split_once(':'))
        .map(|(key, _)| key.trim().trim_matches(['\'', '"']).to_owned())
        .filter(|k| is_word(k))
        .collect()
}

fn same(what: &str, file: &str, found: &Words, expected: &Words) {
    let missing: Vec<_> = expected.difference(found).collect();
    let extra: Vec<_> = found.difference(expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{file}: its {what} differ from the code's list\n  missing: {missing:?}\n  extra:   {extra:?}"
    );
}

fn words<'a>(list: impl IntoIterator<Item = &'a str>) -> Words {
    list.into_iter().map(str::to_owned).collect()
}

fn reasons() -> Words {
    words(Reason::ALL.iter().map(|r| r.code()))
}

fn core_codes() -> Words {
    words(Error::all_codes())
}

/// Codes only the wasm face throws (documented at the top of its lib.rs).
const WASM_CODES: [&str; 2] = ["invalid_argument", "no_randomness"];

fn api_codes() -> Words {
    words(ApiCode::ALL.iter().map(|c| c.as_str()))
}

#[test]
fn lists_in_code_are_sane() {
    assert_eq!(reasons().len(), Reason::ALL.len());
    assert_eq!(api_codes().len(), ApiCode::ALL.len());
    // A Worker code never reuses a token reason: a 401's code alone says which it is.
    assert!(api_codes().is_disjoint(&reasons()));
}

#[test]
fn token_reasons_everywhere() {
    let expected = reasons();
    let types = read("crates/epochgate-wasm/src/types.rs");
    let ts = section("types.rs", &types, "export type Reason =", ";");
    same(
        "Reason type",
        "crates/epochgate-wasm/src/types.rs",
        &quoted(ts),
        &expected,
    );

    let api = read("www/api.js");
    let list = section("www/api.js", &api, "export const TOKEN_REASONS", "]");
    same("TOKEN_REASONS", "www/api.js", &quoted(list), &expected);

    let openapi = read("openapi.yaml");
    same(
        "TokenError codes",
        "openapi.yaml",
        &openapi_enum(&openapi, "    TokenError:"),
        &expected,
    );

    let wasm_tests = read("crates/epochgate-wasm/tests/common/mod.rs");
    let list = section("common/mod.rs", &wasm_tests, "const ALL_REASONS", "];");
    same(
        "ALL_REASONS",
        "crates/epochgate-wasm/tests/common/mod.rs",
        &quoted(list),
        &expected,
    );

    let node_tests = read("tests/node/wasm-interop.test.mjs");
    let list = section("wasm-interop.test.mjs", &node_tests, "const REASONS", "]);");
    same(
        "REASONS",
        "tests/node/wasm-interop.test.mjs",
        &quoted(list),
        &expected,
    );

    let contract = read("docs/CONTRACT.md");
    let list = section("CONTRACT.md", &contract, "**Token reasons**", "\n\n");
    same(
        "token reasons",
        "docs/CONTRACT.md",
        &quoted(list),
        &expected,
    );
}

#[test]
fn error_codes_everywhere() {
    let types = read("crates/epochgate-wasm/src/types.rs");
    let ts = section("types.rs", &types, "export type ErrorCode =", ";");
    let mut expected = core_codes();
    expected.extend(words(WASM_CODES));
    same(
        "ErrorCode type",
        "crates/epochgate-wasm/src/types.rs",
        &quoted(ts),
        &expected,
    );

    let contract = read("docs/CONTRACT.md");
    let list = section("CONTRACT.md", &contract, "**Error codes**", "\n\n");
    same("error codes", "docs/CONTRACT.md", &quoted(list), &expected);

    let list = section("CONTRACT.md", &contract, "**API error codes**", ".\n");
    let mut expected = api_codes();
    // The core codes the Worker answers through its error boundary, named in the same list.
    expected.extend(words(["slots_exhausted", "epoch_exhausted"]));
    same(
        "API error codes",
        "docs/CONTRACT.md",
        &quoted(list),
        &expected,
    );

    // Every error body the API can write: its own codes, a token reason, or a core code.
    let openapi = read("openapi.yaml");
    let mut expected = api_codes();
    expected.extend(reasons());
    expected.extend(core_codes());
    same(
        "Error codes",
        "openapi.yaml",
        &openapi_enum(&openapi, "    Error:\n      type: object"),
        &expected,
    );
}

#[test]
fn session_statuses_everywhere() {
    let expected = words(SessionStatus::ALL.iter().map(|s| s.as_str()));
    let openapi = read("openapi.yaml");
    let status = section("openapi.yaml", &openapi, "    Session:", "    Event:");
    same(
        "Session.status values",
        "openapi.yaml",
        &openapi_enum(status, "\n        status:\n"),
        &expected,
    );
    let contract = read("docs/CONTRACT.md");
    let list = section("CONTRACT.md", &contract, "**Session statuses:**", "\n\n");
    same(
        "session statuses",
        "docs/CONTRACT.md",
        &quoted(list),
        &expected,
    );
}

#[test]
fn activity_kinds_everywhere() {
    let expected = words(ActivityKind::ALL.iter().map(|k| k.as_str()));
    let openapi = read("openapi.yaml");
    let event = section("openapi.yaml", &openapi, "    Event:", "  responses:");
    same(
        "Event.type values",
        "openapi.yaml",
        &openapi_enum(event, "\n        type:\n"),
        &expected,
    );
    let activity = read("www/activity.js");
    same(
        "EVENT_LABEL keys",
        "www/activity.js",
        &object_keys(
            "www/activity.js",
            &activity,
            "EVENT_LABEL = Object.freeze({",
        ),
        &expected,
    );
    let contract = read("docs/CONTRACT.md");
    let list = section("CONTRACT.md", &contract, "**Activity kinds:**", "\n\n");
    same(
        "activity kinds",
        "docs/CONTRACT.md",
        &quoted(list),
        &expected,
    );
}

#[test]
fn the_checks_can_fail() {
    // The parsers must see a difference: one word short, one word too many.
    let expected = reasons();
    let mut short = expected.clone();
    short.pop_last();
    let result = std::panic::catch_unwind(|| same("x", "f", &short, &expected));
    assert!(result.is_err());
    let mut long = expected.clone();
    long.insert("not_a_reason".into());
    let result = std::panic::catch_unwind(|| same("x", "f", &long, &expected));
    assert!(result.is_err());
    assert_eq!(
        quoted("'a_b' \"c\" `d_e` 'X' 'f g'"),
        words(["a_b", "c", "d_e"])
    );
}
