//! Group commit for SQLite: writers that arrive while another is writing
//! share one transaction and one `COMMIT` (one fsync), and each is answered
//! only after that `COMMIT` has returned, so "acknowledged" still means
//! "durable" (`synchronous = FULL`).
//!
//! SQLite has one writer at a time. Writers queue for the gate; each runs its
//! work inside a savepoint of the open group transaction, so a writer whose
//! work fails rolls back only its own savepoint. The writer that finds nobody
//! queued behind it (or fills the group) commits the group and answers every
//! member. A member whose successors went away before their turn commits the
//! group itself after a short wait, so no member waits on a commit that nobody
//! will run. (Hand-written: sqlx has no group commit, and the gate and the
//! savepoints are the whole of it.)

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sqlx::AnyConnection;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, Executor};
use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

use crate::error::StoreError;

/// Most writers in one group: bounds how long the first waits for the fsync.
const MAX_GROUP: usize = 64;
/// How long a member waits for a successor to commit before doing it itself.
const STRAGGLER_WAIT: Duration = Duration::from_millis(20);

#[derive(Default)]
pub(crate) struct GroupCommit {
    state: Arc<Mutex<GroupState>>,
    /// Writers waiting for the gate.
    queued: AtomicUsize,
}

#[derive(Default)]
struct GroupState {
    /// The one writing connection, kept across groups.
    conn: Option<PoolConnection<Any>>,
    /// A group transaction is open.
    open: bool,
    /// A member's savepoint is still open: its work failed or its future was
    /// dropped before its turn ended, so that work must be rolled back.
    dirty: bool,
    /// Members whose work is in the open transaction, waiting for its commit.
    members: Vec<oneshot::Sender<Result<(), String>>>,
    /// Commits so far: tells a member whether its group was committed.
    generation: u64,
    /// The store is closing: no writer may take a connection again, or the
    /// pool's close would wait forever for the one this state keeps.
    closed: bool,
}

/// Counts a writer as queued while it waits for the gate.
struct Queued<'a>(&'a AtomicUsize);

impl<'a> Queued<'a> {
    fn new(n: &'a AtomicUsize) -> Self {
        n.fetch_add(1, Ordering::AcqRel);
        Self(n)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A writer's turn: the gate held, its savepoint open in the group's transaction.
pub(crate) struct Turn {
    guard: OwnedMutexGuard<GroupState>,
}

impl Deref for Turn {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        // A turn exists only after `begin` connected.
        self.guard.conn.as_deref().expect("a turn has a connection")
    }
}

impl DerefMut for Turn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        self.guard.conn.as_deref_mut().expect("a turn has a connection")
    }
}

impl GroupState {
    /// Rolls back the savepoint a failed or dropped writer left open; if even
    /// that fails, the whole group fails.
    async fn settle(&mut self) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        let Some(conn) = self.conn.as_deref_mut() else { return };
        if conn.execute("ROLLBACK TO member").await.is_ok() && conn.execute("RELEASE member").await.is_ok() {
            return;
        }
        let _ = conn.execute("ROLLBACK").await;
        self.conn = None;
        self.end("the group transaction was rolled back after a writer failed".into());
    }

    /// Commits the open group and answers its members.
    async fn commit(&mut self) {
        if !self.open {
            return;
        }
        let result = match self.conn.as_deref_mut() {
            Some(conn) => match conn.execute("COMMIT").await {
                Ok(_) => Ok(()),
                Err(e) => {
                    let _ = conn.execute("ROLLBACK").await;
                    self.conn = None;
                    Err(format!("commit failed: {e}"))
                }
            },
            None => Err("the writing connection was lost".into()),
        };
        match result {
            Ok(()) => {
                self.open = false;
                self.generation += 1;
                for m in self.members.drain(..) {
                    let _ = m.send(Ok(()));
                }
            }
            Err(e) => self.end(e),
        }
    }

    /// Ends the group as failed: every member hears why.
    fn end(&mut self, why: String) {
        self.open = false;
        self.generation += 1;
        for m in self.members.drain(..) {
            let _ = m.send(Err(why.clone()));
        }
    }
}

impl GroupCommit {
    /// Waits for the gate, opens the group transaction if none is open, and
    /// starts this writer's savepoint. The statements run in a task of their
    /// own, so a caller that goes away meanwhile (a client that hung up)
    /// cannot leave SQLite and this state disagreeing about what is open.
    pub(crate) async fn begin(self: &Arc<Self>, pool: &AnyPool) -> Result<Turn, StoreError> {
        let this = self.clone();
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut guard = {
                let _queued = Queued::new(&this.queued);
                this.state.clone().lock_owned().await
            };
            guard.settle().await;
            if guard.closed {
                return Err(StoreError::Database(sqlx::Error::PoolClosed));
            }
            if guard.conn.is_none() {
                guard.conn = Some(pool.acquire().await?);
            }
            let mut turn = Turn { guard };
            if !turn.guard.open {
                // IMMEDIATE takes the write lock up front, so a transaction never
                // fails half-way when it upgrades from reading to writing.
                turn.execute("BEGIN IMMEDIATE").await?;
                turn.guard.open = true;
            }
            turn.execute("SAVEPOINT member").await?;
            turn.guard.dirty = true;
            Ok(turn)
        })
        .await
        .map_err(|e| StoreError::Commit(format!("the write could not start: {e}")))?
    }

    /// Ends a writer's turn: its work joins the group, and it returns once the
    /// group's `COMMIT` has returned (or failed, with the reason). What changes
    /// the group runs in a task of its own, as in [`GroupCommit::begin`]: a
    /// `COMMIT` abandoned half-way would leave the others waiting on it.
    pub(crate) async fn finish(self: &Arc<Self>, turn: Turn) -> Result<(), StoreError> {
        let this = self.clone();
        let joined = tokio::spawn(async move { this.join(turn).await });
        let (mut rx, generation) =
            joined.await.map_err(|e| StoreError::Commit(format!("the write could not finish: {e}")))??;
        let answer = match tokio::time::timeout(STRAGGLER_WAIT, &mut rx).await {
            Ok(answer) => answer,
            Err(_) => {
                // The writers queued behind this one went away before their turn.
                let this = self.clone();
                let _ = tokio::spawn(async move {
                    let mut state = this.state.lock().await;
                    if state.generation == generation {
                        state.settle().await;
                        state.commit().await;
                    }
                })
                .await;
                rx.await
            }
        };
        match answer {
            Ok(Ok(())) => Ok(()),
            Ok(Err(why)) => Err(StoreError::Commit(why)),
            Err(_) => Err(StoreError::Commit("the group ended without an answer".into())),
        }
    }

    /// Adds a finished writer to the group (committing it if nobody is
    /// queued or the group is full); returns where its answer will come.
    async fn join(&self, mut turn: Turn) -> Result<(oneshot::Receiver<Result<(), String>>, u64), StoreError> {
        turn.execute("RELEASE member").await?;
        turn.guard.dirty = false;
        let (tx, rx) = oneshot::channel();
        turn.guard.members.push(tx);
        let generation = turn.guard.generation;
        if self.queued.load(Ordering::Acquire) == 0 || turn.guard.members.len() >= MAX_GROUP {
            turn.guard.commit().await;
        }
        Ok((rx, generation))
    }

    /// Commits any open group and gives the writing connection back to the
    /// pool (before the pool closes, which waits for it); later writers are
    /// refused as the closed pool would refuse them.
    pub(crate) async fn close(&self) {
        let mut state = self.state.lock().await;
        state.settle().await;
        state.commit().await;
        state.conn = None;
        state.closed = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server's background writer that comes between the group's close and
    /// the pool's used to take a connection the group then kept, and the
    /// pool's close waited for it forever.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_writer_after_close_is_refused_and_keeps_no_connection() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("group.db").display());
        let pool = AnyPool::connect(&url).await.unwrap();
        let group = Arc::new(GroupCommit::default());
        let turn = group.begin(&pool).await.unwrap();
        group.finish(turn).await.unwrap();
        group.close().await;
        let late = group.begin(&pool).await;
        assert!(matches!(late, Err(StoreError::Database(sqlx::Error::PoolClosed))), "refused, not begun");
        tokio::time::timeout(Duration::from_secs(10), pool.close()).await.expect("no connection is kept");
    }
}
