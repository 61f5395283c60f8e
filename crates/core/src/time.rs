//! Timestamps are milliseconds since the Unix epoch (UTC) everywhere: one integer
//! type that both SQLite and PostgreSQL store and compare natively.

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

pub const HOUR_MS: Millis = 3_600_000;
pub const DAY_MS: Millis = 24 * HOUR_MS;

/// The current wall-clock time.
pub fn now_ms() -> Millis {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as Millis).unwrap_or(0)
}
