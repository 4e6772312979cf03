#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| epochgate::fuzzing::decode_update(data));
