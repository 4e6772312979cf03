//! A Durable Object runs one request at a time, so password hashing inside one is a ceiling on
//! the whole deployment and a target for floods. Hashing runs in the edge Worker
//! (`edge/passwords.rs`); this test fails when any code of an object calls it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_object_hashes_or_verifies_a_password() {
    let origin = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/origin");
    let mut files = Vec::new();
    rust_files(&origin, &mut files);
    assert!(files.len() > 10, "{files:?}");
    let calls = [
        "password::hash",
        "password::verify",
        "verify_dummy",
        "argon2::",
        "Argon2::",
        "hash_password",
    ];
    let mut found = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in text.lines().enumerate() {
            if calls.iter().any(|c| line.contains(c)) {
                found.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "password hashing inside an object:\n{}",
        found.join("\n")
    );
}
