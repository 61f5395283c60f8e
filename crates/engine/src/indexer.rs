//! Keeps the search index in step with the store by consuming the outbox (no
//! dual writes that could drift): every event carries the entity after the
//! change, so applying events in order from the index's cursor reproduces the
//! store's state — also after a restart with a stale or empty index.

use std::sync::Arc;
use std::time::Duration;

use wantloop_core::{Demand, Event, Offer};
use wantloop_search::{SearchError, SearchIndex};
use wantloop_store::{Store, StoreError, SynonymList};

#[derive(Debug, thiserror::Error)]
pub enum IndexerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Search(#[from] SearchError),
}

/// Applies one event. An event about an offer or demand whose entity cannot
/// be read is skipped, but loudly: an error in the log and a counter in
/// `/v1/stats`, because the index now lags the store for that entity until a
/// later event or a `wantloop reindex` repairs it.
fn apply(index: &SearchIndex, e: &Event) -> Result<(), SearchError> {
    let undecodable = |what: &str, err: serde_json::Error| {
        index.count_undecodable();
        tracing::error!(event = e.id, kind = %e.kind, what, error = %err, "cannot index an outbox event");
    };
    let offer = |v: &serde_json::Value| {
        serde_json::from_value::<Offer>(v.clone()).map_err(|err| undecodable("offer", err)).ok()
    };
    let demand = |v: &serde_json::Value| {
        serde_json::from_value::<Demand>(v.clone()).map_err(|err| undecodable("demand", err)).ok()
    };
    match e.entity.as_str() {
        "offer" => {
            if let Some(o) = offer(&e.payload) {
                index.upsert_offer(&o)?;
            }
        }
        "demand" => {
            if let Some(d) = demand(&e.payload) {
                index.upsert_demand(&d)?;
            }
        }
        "synonyms" => match serde_json::from_value::<SynonymList>(e.payload.clone()) {
            Ok(list) => crate::synonyms::apply(index, &list),
            Err(err) => undecodable("synonyms", err),
        },
        "match" => {
            for (key, is_offer) in [("offer", true), ("demand", false)] {
                let Some(v) = e.payload.get(key) else { continue };
                if is_offer {
                    if let Some(o) = offer(v) {
                        index.upsert_offer(&o)?;
                    }
                } else if let Some(d) = demand(v) {
                    index.upsert_demand(&d)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Applies every event after the index's cursor and commits; returns how many.
/// One catch-up at a time per index (the background task and requests that
/// need a fresh index share it), so batches land in order.
///
/// An index whose cursor is behind what retention deleted from the outbox has
/// missed events for good: it is rebuilt from the store's rows instead.
pub async fn catch_up(store: &dyn Store, index: &SearchIndex) -> Result<usize, IndexerError> {
    catch_up_to(store, index, i64::MAX).await
}

/// As [`catch_up`], for a reader that needs the index at `target` or later
/// (the store's last event when its request began): if a catch-up that ran
/// while it waited for its turn got there, it returns at once. So concurrent
/// requests share one index commit instead of committing one after another.
pub async fn catch_up_to(store: &dyn Store, index: &SearchIndex, target: i64) -> Result<usize, IndexerError> {
    catch_up_committing(store, index, target, |cursor| std::future::ready(index.commit(cursor))).await
}

/// The catch-up, with each commit made by `commit` (here, or on the index's
/// lowered upkeep thread for the background task).
async fn catch_up_committing<F, Fut>(
    store: &dyn Store,
    index: &SearchIndex,
    target: i64,
    commit: F,
) -> Result<usize, IndexerError>
where
    F: Fn(i64) -> Fut,
    Fut: std::future::Future<Output = Result<(), SearchError>>,
{
    let _one_at_a_time = index.applying().lock().await;
    if index.cursor() >= target {
        return Ok(0);
    }
    let mut applied = 0;
    let mut cursor = index.cursor();
    let mut uncommitted = 0;
    loop {
        let events = store.events_after(cursor, EVENTS_PER_READ).await?;
        let Some(last) = events.last().map(|e| e.id) else { break };
        if events[0].id > cursor + 1 && store.events_pruned_through().await? > cursor {
            tracing::warn!(cursor, "the outbox was pruned past this index; rebuilding it");
            return Ok(rebuild_locked(store, index, &|_| {}).await? as usize);
        }
        for e in &events {
            apply(index, e)?;
        }
        cursor = last;
        applied += events.len();
        uncommitted += events.len();
        // A commit writes a segment: on a long catch-up (after a bulk import)
        // committing every read would leave thousands of small segments.
        if uncommitted >= EVENTS_PER_COMMIT {
            commit(cursor).await?;
            uncommitted = 0;
        }
    }
    if uncommitted > 0 {
        commit(cursor).await?;
    }
    Ok(applied)
}

/// Outbox events read per query while catching up.
const EVENTS_PER_READ: u32 = 2_000;
/// Events applied between two index commits while catching up.
const EVENTS_PER_COMMIT: usize = 50_000;

/// Rebuilds the index from the store's current rows.
pub async fn rebuild(
    store: &dyn Store,
    index: &SearchIndex,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<u64, IndexerError> {
    let _one_at_a_time = index.applying().lock().await;
    rebuild_locked(store, index, progress).await
}

async fn rebuild_locked(
    store: &dyn Store,
    index: &SearchIndex,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<u64, IndexerError> {
    use wantloop_store::{DemandFilter, OfferFilter, Page};
    // Take the cursor first: events after it are applied by the next catch-up.
    let cursor = store.last_event_id().await?;
    index.clear()?;
    let mut n = 0;
    // Page by page, so a rebuild holds one page of rows, not the table.
    let mut page = Page::first(Page::MAX_LIMIT);
    loop {
        let offers = store.list_offers(&OfferFilter::default(), page).await?;
        let Some(last) = offers.last() else { break };
        page.after = last.id;
        for o in &offers {
            index.upsert_offer(o)?;
        }
        n += offers.len() as u64;
        progress(n);
    }
    let mut page = Page::first(Page::MAX_LIMIT);
    loop {
        let demands = store.list_demands(&DemandFilter::default(), page).await?;
        let Some(last) = demands.last() else { break };
        page.after = last.id;
        for d in &demands {
            index.upsert_demand(d)?;
        }
        n += demands.len() as u64;
        progress(n);
    }
    index.commit(cursor)?;
    Ok(n)
}

/// The background task: catch up, then poll the outbox. A persistent index
/// reports its position as `consumer`, so retention keeps the events it has
/// not read yet (an in-memory index is rebuilt at open and needs none).
pub async fn run(
    store: Arc<dyn Store>,
    index: Arc<SearchIndex>,
    every: Duration,
    consumer: Option<String>,
    mut wake: Option<Box<dyn crate::seams::Subscription>>,
) {
    let mut tick = tokio::time::interval(every);
    let mut reported = None;
    // Commits run on the index's lowered upkeep thread: requests keep the
    // cores while tantivy writes segments (`wantloop_search`'s `upkeep.rs`).
    let in_background = |cursor| index.commit_in_background(cursor);
    // Woken by the event stream, the indexer still catches up at most ten
    // times a second, and a burst of messages wakes it once.
    const MIN_GAP: Duration = Duration::from_millis(100);
    let mut last = tokio::time::Instant::now();
    loop {
        let woken = tokio::select! {
            _ = tick.tick() => false,
            Some(_) = crate::seams::next_or_never(&mut wake) => true,
        };
        if woken {
            tokio::time::sleep_until(last + MIN_GAP).await;
            while let Ok(Some(_)) = tokio::time::timeout(Duration::ZERO, crate::seams::next_or_never(&mut wake)).await {
            }
        }
        last = tokio::time::Instant::now();
        if let Err(e) = catch_up_committing(store.as_ref(), &index, i64::MAX, in_background).await {
            tracing::warn!(error = %e, "search indexing failed");
        }
        if let Some(name) = &consumer
            && reported != Some(index.cursor())
        {
            match store.record_consumer(name, index.cursor()).await {
                Ok(()) => reported = Some(index.cursor()),
                Err(e) => tracing::warn!(error = %e, "cannot record the index's outbox position"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use wantloop_core::Event;
    use wantloop_search::SearchIndex;
    use wantloop_store::Store;
    use wantloop_store::testing::TestDb;

    use super::*;

    #[test]
    fn an_undecodable_event_is_counted_not_silently_skipped() {
        let index = SearchIndex::in_memory().unwrap();
        let bad = |id, entity: &str, payload| Event {
            id,
            kind: format!("{entity}.created"),
            entity: entity.into(),
            entity_id: 1,
            payload,
            created_at: 0,
            actor_key: None,
        };
        apply(&index, &bad(1, "offer", serde_json::json!({"id": "not a number"}))).unwrap();
        apply(&index, &bad(2, "match", serde_json::json!({"offer": {"id": 1}, "demand": []}))).unwrap();
        assert_eq!(index.undecodable_events(), 3);
        // Events of other entities carry nothing to index: not an error.
        apply(&index, &bad(3, "model", serde_json::json!({"whatever": true}))).unwrap();
        assert_eq!(index.undecodable_events(), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_catch_ups_land_in_order() {
        let db = TestDb::sqlite().await.unwrap();
        let store: Arc<dyn Store> = Arc::new(db.store.clone());
        let index = Arc::new(SearchIndex::in_memory().unwrap());
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let store = store.clone();
                tokio::spawn(async move {
                    for i in 0..25 {
                        let input = wantloop_core::offer::OfferInput {
                            provider: format!("p{w}"),
                            text: format!("自行车 {w} {i}"),
                            category: "bicycles".into(),
                            price: 100,
                            ..Default::default()
                        };
                        store.create_offer(&input.parse().unwrap(), None).await.unwrap();
                    }
                })
            })
            .collect();
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let (store, index) = (store.clone(), index.clone());
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    for _ in 0..30 {
                        catch_up(store.as_ref(), &index).await.unwrap();
                        seen.push(index.cursor());
                        tokio::task::yield_now().await;
                    }
                    seen
                })
            })
            .collect();
        for w in writers {
            w.await.unwrap();
        }
        for r in readers {
            let seen = r.await.unwrap();
            assert!(seen.windows(2).all(|w| w[0] <= w[1]), "the cursor moved back: {seen:?}");
        }
        catch_up(store.as_ref(), &index).await.unwrap();
        assert_eq!(index.cursor(), store.last_event_id().await.unwrap());
        assert_eq!(index.num_docs(), 100);
        db.cleanup().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_index_behind_a_pruned_outbox_is_rebuilt() {
        let db = TestDb::sqlite().await.unwrap();
        let store: Arc<dyn Store> = Arc::new(db.store.clone());
        let index = SearchIndex::in_memory().unwrap();
        let post = async |text: &str| {
            let input = wantloop_core::offer::OfferInput {
                provider: "p".into(),
                text: text.into(),
                category: "bicycles".into(),
                price: 100,
                ..Default::default()
            };
            store.create_offer(&input.parse().unwrap(), None).await.unwrap();
        };
        post("自行车 一").await;
        catch_up(store.as_ref(), &index).await.unwrap();
        // While the node is away, more offers arrive and retention deletes
        // their events (the node's consumer record had gone stale).
        post("自行车 二").await;
        post("自行车 三").await;
        let policy = wantloop_store::RetentionPolicy {
            now: wantloop_core::time::now_ms() + 60_000,
            events: Some(1_000),
            consumer_ttl: 1,
            ..Default::default()
        };
        assert_eq!(store.prune(&policy).await.unwrap().events, 3);
        post("自行车 四").await;
        catch_up(store.as_ref(), &index).await.unwrap();
        assert_eq!(index.num_docs(), 4, "the missed offers are back, from the store's rows");
        assert_eq!(index.cursor(), store.last_event_id().await.unwrap());
        db.cleanup().await;
    }

    /// The background task follows the outbox on its own, committing on the
    /// index's upkeep thread: offers posted after it started become
    /// searchable without anyone calling a catch-up.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_background_task_indexes_new_events() {
        let db = TestDb::sqlite().await.unwrap();
        let store: Arc<dyn Store> = Arc::new(db.store.clone());
        let index = Arc::new(SearchIndex::in_memory().unwrap());
        let task = tokio::spawn(run(store.clone(), index.clone(), Duration::from_millis(20), None, None));
        for i in 0..3 {
            let input = wantloop_core::offer::OfferInput {
                provider: "p".into(),
                text: format!("自行车 {i}"),
                category: "bicycles".into(),
                price: 100,
                ..Default::default()
            };
            store.create_offer(&input.parse().unwrap(), None).await.unwrap();
        }
        let last = store.last_event_id().await.unwrap();
        for _ in 0..250 {
            if index.cursor() >= last {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        task.abort();
        assert_eq!(index.cursor(), last, "the background task did not catch up within 5 s");
        assert_eq!(index.num_docs(), 3);
        db.cleanup().await;
    }
}
