//! SQLite's WAL checkpoints, off the write path. By default the connection
//! whose commit takes the WAL past the threshold copies the WAL back into the
//! database there and then, while holding the writer's turn: under matching
//! at 1M rows (each proposal touches pages all over a 2 GB file) that was a
//! checkpoint of tens of milliseconds about once a second, and every request
//! waiting to write (all 16 of a load test's connections) waited for it. Here
//! commits never checkpoint below a high safety threshold; a background task
//! runs a PASSIVE checkpoint (which neither waits for nor blocks readers and
//! writers) every [`EVERY`], so the WAL stays small and writers stay free.

use std::sync::Arc;
use std::time::Duration;

use sqlx::AnyPool;

/// How often the background checkpoint runs.
pub(super) const EVERY: Duration = Duration::from_millis(250);
/// WAL pages (4 KiB) past which a commit still checkpoints by itself: only if
/// the background task cannot keep up (400 MB of WAL).
pub(super) const SAFETY_THRESHOLD: &str = "PRAGMA wal_autocheckpoint = 100000";

/// The background checkpoint task; stopped when the last store handle holding
/// it is dropped.
pub(super) struct Checkpointer(tokio::task::JoinHandle<()>);

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// WAL frames past which a checkpoint also rewinds the WAL (RESTART): a
/// PASSIVE one copies pages back but cannot rewind while readers use it, and
/// under steady reads the WAL then grew to hundreds of MB, which every read
/// pays for in WAL-index lookups. A RESTART holds writers back while it
/// waits, so it is not made often: at 1M rows under matching (about 6,000
/// frames a second) restarting past 4,096 frames put a 20–60 ms stall on
/// every writer about once a second (match p99 43–45 ms); past 16,384 (64 MB
/// of WAL, one restart in about three seconds) p99 was 31–36 ms.
const RESTART_FRAMES: i64 = 16_384;
/// How long a RESTART waits for readers to move to the newest snapshot; it
/// holds new writers back meanwhile, so it gives up soon and tries again.
const RESTART_WAIT: &str = "PRAGMA busy_timeout = 20";
/// The pool's usual wait for the lock (as set when connecting).
const USUAL_WAIT: &str = "PRAGMA busy_timeout = 10000";

/// One round: copy what the WAL holds back into the database without
/// blocking anyone, then, if the WAL has grown and everything was copied,
/// rewind it (which briefly holds writers back).
async fn round(pool: &AnyPool) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let (_busy, log, copied): (i32, i32, i32) =
        sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&mut *conn).await?;
    if i64::from(log) >= RESTART_FRAMES && copied == log {
        sqlx::query(RESTART_WAIT).execute(&mut *conn).await?;
        let started = std::time::Instant::now();
        let restarted = sqlx::query("PRAGMA wal_checkpoint(RESTART)").execute(&mut *conn).await;
        if let Err(e) = sqlx::query(USUAL_WAIT).execute(&mut *conn).await {
            // A connection left with the short wait must not serve writers.
            conn.close_on_drop();
            return Err(e);
        }
        tracing::debug!(
            frames = log,
            ms = started.elapsed().as_millis() as u64,
            ok = restarted.is_ok(),
            "WAL restarted"
        );
        restarted?;
    }
    Ok(())
}

/// Starts the task on `pool`'s connections.
pub(super) fn start(pool: AnyPool) -> Arc<Checkpointer> {
    Arc::new(Checkpointer(tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if pool.is_closed() {
                return;
            }
            if let Err(e) = round(&pool).await {
                tracing::warn!(error = %e, "WAL checkpoint failed; commits checkpoint past the safety threshold");
            }
        }
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use crate::sql::SqlStore;

    /// Commits never checkpoint below the safety threshold, so without the
    /// background task a thousand commits stay in the WAL and the database
    /// file on disk stays as the migrations left it. With it, the pages are
    /// copied back soon after: the file on disk grows to the database's
    /// logical size. (Once copied back, SQLite's next writer rewinds the WAL
    /// by itself when no reader holds it; RESTART covers the case where one
    /// does.) The check polls, since a loaded machine may run the task late,
    /// and reads sizes rather than running a checkpoint of its own.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_background_checkpoint_copies_commits_back_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.db");
        let store = SqlStore::connect(&format!("sqlite://{}", file.display())).await.unwrap();
        for i in 0..1_000 {
            let input = wantloop_core::offer::OfferInput {
                provider: format!("p{}", i % 7),
                text: format!("二手自行车 {i}"),
                category: "bicycles".into(),
                price: 100 + i,
                ..Default::default()
            };
            store.create_offer(&input.parse().unwrap(), None).await.unwrap();
        }
        let (pages, page_size): (i64, i64) =
            sqlx::query_as("SELECT page_count, page_size FROM pragma_page_count, pragma_page_size")
                .fetch_one(store.pool())
                .await
                .unwrap();
        let logical = u64::try_from(pages * page_size).unwrap();
        let mut on_disk = 0;
        for _ in 0..40 {
            tokio::time::sleep(EVERY).await;
            on_disk = std::fs::metadata(&file).unwrap().len();
            if on_disk >= logical {
                break;
            }
        }
        assert!(on_disk >= logical, "the database file holds {on_disk} of {logical} bytes");
    }
}
