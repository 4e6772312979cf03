#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| epochgate_webauthn::fuzzing::ceremonies(data));
