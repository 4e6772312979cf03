#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| epochgate::fuzzing::load_keys(data));
