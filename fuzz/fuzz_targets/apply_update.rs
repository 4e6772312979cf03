#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| epochgate::fuzzing::apply_update(data));
