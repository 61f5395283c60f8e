//! Searching offers and demands through the engine: the index answers, and the
//! cache seam keeps hot results. A cached entry's key carries the index
//! cursor it was computed at and the synonym list's version, so a commit or a
//! new list makes every older entry unreachable (no stale answer after a
//! write this node has indexed).

use std::time::Duration;

use wantloop_search::{SearchRequest, SearchResults};

use crate::{Engine, EngineError};

/// How long a cached result may be served if nothing is indexed meanwhile.
const SEARCH_TTL: Duration = Duration::from_secs(600);

impl Engine {
    pub async fn search(&self, r: &SearchRequest) -> Result<SearchResults, EngineError> {
        // The synonyms' version too: a new list changes answers without a commit.
        let key = format!("search:{}:{}:{}", self.search.cursor(), self.search.synonyms_version(), r.cache_key());
        if let Some(bytes) = self.seams.cache.get(&key).await
            && let Ok(hit) = serde_json::from_slice::<SearchResults>(&bytes)
        {
            return Ok(hit);
        }
        let index = self.search.clone();
        let request = r.clone();
        let started = std::time::Instant::now();
        let results = tokio::task::spawn_blocking(move || index.search(&request))
            .await
            .map_err(|e| EngineError::Seam(format!("search task failed: {e}")))??;
        // Searches the index answered (cache hits are counted by the cache).
        metrics::histogram!("wantloop_search_seconds").record(started.elapsed().as_secs_f64());
        if let Ok(bytes) = serde_json::to_vec(&results) {
            self.seams.cache.put(&key, bytes, SEARCH_TTL).await;
        }
        Ok(results)
    }
}
