//! The installed sentence model for any crate's tests: one rule for when a
//! test without it skips and when it fails.

use std::path::PathBuf;

/// The model's folder from `WANTLOOP_TEXT_MODEL` (`wantloop models install
/// text` puts it in `DATA_DIR/models/all-minilm-l6-v2`). Unset, the test
/// prints `notice: … ; {skipped}` and gets `None`, unless
/// `WANTLOOP_REQUIRE_TEXT_MODEL` is set (`.ci/run`), where it fails.
pub fn model_dir(skipped: &str) -> Option<PathBuf> {
    match std::env::var_os("WANTLOOP_TEXT_MODEL") {
        Some(dir) => Some(dir.into()),
        None if std::env::var_os("WANTLOOP_REQUIRE_TEXT_MODEL").is_some() => {
            panic!("WANTLOOP_REQUIRE_TEXT_MODEL is set but WANTLOOP_TEXT_MODEL is not")
        }
        None => {
            eprintln!("notice: WANTLOOP_TEXT_MODEL is not set; {skipped}");
            None
        }
    }
}
