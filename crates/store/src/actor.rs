//! The API key a write acts for, carried with the request's task.
//!
//! Why a task-local rather than a parameter: every state change must name its
//! actor in its event (the audit trail), and there are dozens of write paths
//! through the engine. Threading a parameter through each would let a new path
//! forget it; the HTTP layer instead runs each request inside [`acting_as`], and
//! the store reads [`current`] when a write transaction begins. Work a request
//! hands to another task carries it along with [`acting_as`] again.

tokio::task_local! {
    static ACTOR: Option<i64>;
}

/// Runs `work` with `key` as the actor of the writes it makes.
pub async fn acting_as<F: Future>(key: Option<i64>, work: F) -> F::Output {
    ACTOR.scope(key, work).await
}

/// The key the current task acts for, if any.
pub fn current() -> Option<i64> {
    ACTOR.try_with(|a| *a).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_actor_is_seen_inside_its_scope_only() {
        assert_eq!(current(), None);
        let inside = acting_as(Some(7), async { current() }).await;
        assert_eq!(inside, Some(7));
        assert_eq!(current(), None);
    }
}
