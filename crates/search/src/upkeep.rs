//! Index upkeep at low CPU priority. A commit makes tantivy finish its
//! in-memory segments and start new indexing threads, and segments merge on
//! threads of their own. Under matching load (every proposal re-indexes an
//! offer and a demand) the background indexer's commit took 50–200 ms once a
//! second, and meanwhile tantivy's threads competed with the request threads
//! for the two cores: every request in flight slowed (match p99 38–40 ms at
//! 100k rows, 27–30 ms with the upkeep lowered; `bench/scale`). On Linux a
//! thread's nice value is its own and new threads inherit their creator's, so
//! the writer is created on a lowered thread (its merge threads stay low) and
//! the background indexer commits on one (the indexing threads a commit starts
//! stay low). A commit a request waits for runs at normal priority.
//! (libc's `setpriority` directly: one call; no crate does less.)

use std::sync::mpsc::{Receiver, Sender, channel};

/// How far upkeep threads are lowered: nice 10 weighs about a tenth of a
/// normal thread, so upkeep yields to requests yet still gets a share when
/// the cores are saturated (nice 19 would starve it).
#[cfg(target_os = "linux")]
const NICE: libc::c_int = 10;

/// Lowers the calling thread's CPU priority (Linux: `setpriority` on the
/// thread; a no-op elsewhere, where the nice value is per process).
pub(crate) fn lower_current_thread() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: getpriority and setpriority read no memory of ours; `who` 0
        // names the calling thread. (A failed getpriority reads as -1: the
        // thread is then set to NICE, which is still a lowering.)
        let now = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        let failed = now < NICE && unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, NICE) } != 0;
        if failed {
            tracing::debug!(error = %std::io::Error::last_os_error(), "cannot lower an index upkeep thread's priority");
        }
    }
}

/// Runs `f` on a new lowered thread and waits for it: what `f` starts
/// (tantivy's thread pools) inherits the low priority.
pub(crate) fn on_lowered_thread<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|s| {
        s.spawn(|| {
            lower_current_thread();
            f()
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

type Job = Box<dyn FnOnce() + Send>;

/// One long-lived lowered thread that runs jobs in order; it ends when the
/// value is dropped.
pub(crate) struct UpkeepThread {
    jobs: Sender<Job>,
}

impl UpkeepThread {
    pub(crate) fn start() -> std::io::Result<Self> {
        let (jobs, rx): (Sender<Job>, Receiver<Job>) = channel();
        std::thread::Builder::new().name("wantloop-index-upkeep".into()).spawn(move || {
            lower_current_thread();
            while let Ok(job) = rx.recv() {
                job();
            }
        })?;
        Ok(Self { jobs })
    }

    /// Runs `f` on the thread; the answer arrives when it has run (an error
    /// if the thread has ended).
    pub(crate) async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, UpkeepStopped> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = tx.send(f());
            }))
            .map_err(|_| UpkeepStopped)?;
        rx.await.map_err(|_| UpkeepStopped)
    }
}

/// The upkeep thread has ended (a job panicked).
#[derive(Debug)]
pub(crate) struct UpkeepStopped;

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn nice_of_this_thread() -> libc::c_int {
        // SAFETY: as above; getpriority reads no memory of ours.
        unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
    }

    #[test]
    fn threads_started_on_a_lowered_thread_inherit_its_priority() {
        let before = nice_of_this_thread();
        let child = on_lowered_thread(|| std::thread::spawn(nice_of_this_thread).join().unwrap());
        assert_eq!(child, before.max(NICE), "a thread started by a lowered one is lowered too");
        assert_eq!(nice_of_this_thread(), before, "the caller's own priority is untouched");
    }

    #[tokio::test]
    async fn the_upkeep_thread_runs_jobs_lowered_and_answers() {
        let upkeep = UpkeepThread::start().unwrap();
        let before = nice_of_this_thread();
        assert_eq!(upkeep.run(nice_of_this_thread).await.unwrap(), before.max(NICE));
        assert_eq!(upkeep.run(|| 6 * 7).await.unwrap(), 42);
    }
}
