//! The face's tests under Node.js (`wasm-pack test --node`).
#![cfg(target_arch = "wasm32")]

mod common;
