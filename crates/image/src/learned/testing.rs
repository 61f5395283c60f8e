//! The installed network for any crate's tests: one rule for when a test
//! without it skips and when it fails — the sentence model's rule
//! (`wantloop_ml::sentence::testing`), repeated because the two crates share
//! no dependency that could hold it once.

use std::path::PathBuf;

/// The weights from `WANTLOOP_IMAGE_MODEL` (`wantloop models install image`
/// writes `DATA_DIR/models/efficientnet-lite0.pth`). Unset, the test prints
/// `notice: … ; {skipped}` and gets `None`, unless
/// `WANTLOOP_REQUIRE_IMAGE_MODEL` is set (`.ci/run`), where it fails.
pub fn weights(skipped: &str) -> Option<PathBuf> {
    match std::env::var_os("WANTLOOP_IMAGE_MODEL") {
        Some(path) => Some(path.into()),
        None if std::env::var_os("WANTLOOP_REQUIRE_IMAGE_MODEL").is_some() => {
            panic!("WANTLOOP_REQUIRE_IMAGE_MODEL is set but WANTLOOP_IMAGE_MODEL is not")
        }
        None => {
            eprintln!("notice: WANTLOOP_IMAGE_MODEL is not set; {skipped}");
            None
        }
    }
}
