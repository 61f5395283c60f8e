//! `wantloop.toml`: any text is read into settings or refused with one error.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = wantloop_cli::config_file::parse(text, Path::new("wantloop.toml"));
    }
});
