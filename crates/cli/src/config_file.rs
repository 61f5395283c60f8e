//! `wantloop.toml`: settings from a file, below the environment and flags.
//!
//! Each top-level key names a `WANTLOOP_*` variable (`data_dir = "…"` is
//! `WANTLOOP_DATA_DIR`). Keys are copied into the environment only where the
//! variable is unset, before the flags are parsed; clap then applies flags over
//! environment over these values over built-in defaults — one precedence rule,
//! enforced by clap.

use std::path::{Path, PathBuf};

/// The config file: `WANTLOOP_CONFIG`, else `./wantloop.toml` if present.
fn locate() -> Option<PathBuf> {
    match std::env::var_os("WANTLOOP_CONFIG") {
        Some(p) => Some(PathBuf::from(p)),
        None => Some(PathBuf::from("wantloop.toml")).filter(|p| p.exists()),
    }
}

fn load(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    parse(&text, path)
}

/// The `WANTLOOP_*` variables a config file's text sets; `path` names it in errors.
pub fn parse(text: &str, path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let table: toml::Table = text.parse().map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    table
        .into_iter()
        .map(|(key, value)| {
            let value = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => anyhow::bail!(
                    "{}: {key} must be a string, number or boolean, not {}",
                    path.display(),
                    other.type_str()
                ),
            };
            Ok((format!("WANTLOOP_{}", key.to_ascii_uppercase()), value))
        })
        .collect()
}

/// Applies the config file (if any) to the environment. Call before parsing flags.
pub fn apply() -> anyhow::Result<()> {
    let Some(path) = locate() else { return Ok(()) };
    for (var, value) in load(&path)? {
        if std::env::var_os(&var).is_none() {
            // SAFETY: called at start-up, before any other thread exists.
            unsafe { std::env::set_var(var, value) };
        }
    }
    Ok(())
}
