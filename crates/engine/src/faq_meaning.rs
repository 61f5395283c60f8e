//! English FAQ phrasings by meaning (the sentence model, `models install
//! text`): their vectors, built beside the lexical FAQ, and the ranking that
//! blends a phrasing's cosine to the question with the entry's word coverage.
//!
//! Embedding costs 10–20 ms of a core per phrasing, so a reload embeds at
//! most [`INLINE_EMBEDDINGS`] new phrasings before it answers; a larger FAQ
//! (a first load, a bulk import) is embedded in the background, English
//! questions matched by their words until it is done (an answer's `scorer`
//! says which), and the work stops when a newer FAQ replaces it. Every
//! vector made goes into the node's [`VectorCache`] at once, so an edit
//! re-embeds only new phrasings and a stopped run loses nothing it made.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use wantloop_ml::paraphrase::{Analysed, Retrieved};
use wantloop_ml::sentence::{SentenceEncoder, cosine};
use wantloop_store::FaqEntry;

use crate::ask::{Assistant, FaqState, Suggestion};
use crate::{Engine, EngineError};

/// Per entry, its phrasings' vectors (empty for entries not in English).
pub(crate) type Meanings = Vec<Vec<Arc<[f32]>>>;

/// New phrasings a reload embeds before answering (a few seconds on 2 cores).
pub(crate) const INLINE_EMBEDDINGS: usize = 256;
/// An entry's confidence: this × its closest phrasing's cosine + the rest ×
/// its word coverage. Chosen with `ask::MEANING_THRESHOLD` on the demo's
/// validation questions.
const MEANING_WEIGHT: f64 = 0.55;
/// Entries taken by meaning as candidates, beside BM25's.
const CANDIDATES: usize = 10;

/// The phrasings' vectors this node has made, by their text.
#[derive(Default)]
pub(crate) struct VectorCache(Mutex<HashMap<String, Arc<[f32]>>>);

impl VectorCache {
    fn get(&self, text: &str) -> Option<Arc<[f32]>> {
        self.0.lock().ok()?.get(text).cloned()
    }

    fn put(&self, text: &str, vector: Arc<[f32]>) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(text.to_string(), vector);
        }
    }

    /// Forgets the vectors of phrasings `entries` no longer hold.
    pub(crate) fn keep_only(&self, entries: &[FaqEntry]) {
        let held: HashSet<&str> = entries.iter().flat_map(|e| e.questions.iter().map(String::as_str)).collect();
        if let Ok(mut m) = self.0.lock() {
            m.retain(|text, _| held.contains(text.as_str()));
        }
    }
}

/// The English phrasings' vectors, from the cache or made (and cached);
/// `None` when more than `limit` are not cached, or when `cancelled` says a
/// newer FAQ made the rest of the work moot.
pub(crate) fn embed_phrasings(
    entries: &[FaqEntry],
    encoder: &SentenceEncoder,
    cache: &VectorCache,
    limit: usize,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Option<Meanings> {
    use rayon::prelude::*;
    let english = entries.iter().filter(|e| e.lang == "en");
    let new = english.flat_map(|e| &e.questions).filter(|q| cache.get(q).is_none()).count();
    if new > limit {
        return None;
    }
    let vector = |q: &String| {
        if let Some(v) = cache.get(q) {
            return Some(v);
        }
        if cancelled() {
            return None;
        }
        match encoder.embed(q) {
            Ok(v) => {
                let v: Arc<[f32]> = Arc::from(v);
                cache.put(q, v.clone());
                Some(v)
            }
            // Never expected (any text embeds); the phrasing then matches
            // by its words alone, and is tried again at the next reload.
            Err(e) => {
                tracing::warn!(error = %e, phrasing = %q, "cannot embed an FAQ phrasing");
                Some(Arc::from(Vec::new()))
            }
        }
    };
    entries
        .par_iter()
        .map(|e| if e.lang == "en" { e.questions.iter().map(vector).collect() } else { Some(Vec::new()) })
        .collect()
}

/// The entries closest in meaning to the question (`asked`, its vector) and
/// BM25's candidates (`hits`), best first, each with its closest phrasing
/// and a confidence blending that phrasing's cosine with the entry's word
/// coverage. Entries `skip` names are left out.
pub(crate) fn rank_by_meaning(
    faq: &FaqState,
    meanings: &Meanings,
    asked: &[f32],
    hits: &[Retrieved],
    query: &Analysed,
    skip: &dyn Fn(usize) -> bool,
) -> Vec<Suggestion> {
    // A phrasing without a vector (it failed to embed) counts as cosine 0.
    let closest = |d: usize| {
        let cosines = meanings[d].iter().map(|v| if v.is_empty() { 0.0 } else { f64::from(cosine(asked, v)) });
        cosines.enumerate().max_by(|a, b| a.1.total_cmp(&b.1)).unwrap_or((0, 0.0))
    };
    let mut scored: Vec<(usize, usize, f64)> = (0..faq.entries().len())
        .filter(|&d| !skip(d) && !meanings[d].is_empty())
        .map(|d| {
            let (i, c) = closest(d);
            (d, i, c)
        })
        .collect();
    let by_cosine = |a: &(usize, usize, f64), b: &(usize, usize, f64)| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0));
    if scored.len() > CANDIDATES {
        scored.select_nth_unstable_by(CANDIDATES - 1, by_cosine);
        scored.truncate(CANDIDATES);
    }
    for hit in hits {
        if !scored.iter().any(|s| s.0 == hit.document) {
            let (i, c) = closest(hit.document);
            scored.push((hit.document, i, c));
        }
    }
    let mut ranked: Vec<Suggestion> = scored
        .into_iter()
        .map(|(d, i, c)| {
            let entry = &faq.entries()[d];
            let coverage = faq.index().word_coverage(query, d);
            Suggestion {
                entry: entry.id,
                key: entry.key.clone(),
                question: entry.questions.get(i).cloned().unwrap_or_default(),
                confidence: (MEANING_WEIGHT * c + (1.0 - MEANING_WEIGHT) * coverage).clamp(0.0, 1.0),
            }
        })
        .collect();
    ranked.sort_by(|a, b| b.confidence.total_cmp(&a.confidence).then(a.entry.cmp(&b.entry)));
    ranked.truncate(CANDIDATES);
    ranked
}

impl Engine {
    /// Embeds a large FAQ's English phrasings off the request path; English
    /// questions are matched by their words until it is done. Stops when a
    /// newer FAQ has replaced this one or the engine is gone.
    pub(crate) fn embed_in_background(&self, state: Arc<FaqState>, encoder: Arc<SentenceEncoder>) {
        let (assistant, vectors) = (Arc::downgrade(&self.assistant), self.assistant.vectors.clone());
        #[cfg(feature = "testing")]
        let gate = self.assistant.embedding_gate.clone();
        tokio::task::spawn_blocking(move || {
            #[cfg(feature = "testing")]
            let _open = gate.blocking_read();
            let version = state.version;
            let current = |a: &Assistant| a.faq.read().ok().and_then(|g| g.as_ref().map(|s| s.version));
            let cancelled = || assistant.upgrade().is_none_or(|a| current(&a) != Some(version));
            let started = std::time::Instant::now();
            let made = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                embed_phrasings(state.entries(), &encoder, &vectors, usize::MAX, &cancelled)
            }));
            let made = match made {
                Ok(m) => m,
                Err(_) => {
                    tracing::error!(version, "embedding the FAQ failed; English is matched by words until it changes");
                    None
                }
            };
            if let Some(m) = made {
                if !cancelled() {
                    vectors.keep_only(state.entries());
                }
                state.set_meanings(m);
                tracing::info!(
                    version,
                    seconds = started.elapsed().as_secs_f64(),
                    "FAQ embedded for matching by meaning"
                );
            }
        });
    }

    /// Keeps background embedding from starting until the guard is dropped,
    /// so a test sees the FAQ answered by words while it is pending.
    #[cfg(feature = "testing")]
    pub async fn hold_faq_embedding(&self) -> tokio::sync::OwnedRwLockWriteGuard<()> {
        self.assistant.embedding_gate.clone().write_owned().await
    }

    /// Waits, at most `timeout`, until English questions can be matched by
    /// meaning: the FAQ's English phrasings embedded (at once when there is
    /// no sentence model or no English entry). Whether they can.
    pub async fn faq_embedded(&self, timeout: std::time::Duration) -> Result<bool, EngineError> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let faq = self.faq_state().await?;
            if self.sentences.is_none() || !faq.english {
                return Ok(false);
            }
            if faq.meanings().is_some() {
                return Ok(true);
            }
            if std::time::Instant::now() >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The installed model (`WANTLOOP_TEXT_MODEL`), required where `.ci/run` says so.
    fn encoder() -> Option<SentenceEncoder> {
        let dir = wantloop_ml::sentence::testing::model_dir("faq_meaning's tests with the model are skipped")?;
        Some(SentenceEncoder::load(&dir).unwrap())
    }

    fn entry(key: &str, lang: &str, questions: &[&str]) -> FaqEntry {
        FaqEntry {
            id: 0,
            key: key.into(),
            lang: lang.into(),
            questions: questions.iter().map(|q| q.to_string()).collect(),
            answer: String::new(),
            updated_at: 0,
        }
    }

    #[test]
    fn only_english_phrasings_are_embedded_and_each_once() {
        let Some(encoder) = encoder() else { return };
        let cache = VectorCache::default();
        let entries =
            vec![entry("a", "en", &["How do I post?", "Posting a demand"]), entry("b", "zh", &["怎么发布？"])];
        // Over the limit: nothing made, nothing cached.
        assert!(embed_phrasings(&entries, &encoder, &cache, 1, &|| false).is_none());
        assert!(cache.get("How do I post?").is_none());
        // A run stopped before it starts makes nothing either.
        assert!(embed_phrasings(&entries, &encoder, &cache, 10, &|| true).is_none());
        let m = embed_phrasings(&entries, &encoder, &cache, 2, &|| false).unwrap();
        assert_eq!((m[0].len(), m[1].len()), (2, 0));
        assert!(m[0].iter().all(|v| v.len() == wantloop_ml::sentence::DIM));
        // Cached now: a run that may embed nothing (limit 0, and stopped) still succeeds.
        let again = embed_phrasings(&entries, &encoder, &cache, 0, &|| true).unwrap();
        assert!(Arc::ptr_eq(&again[0][0], &m[0][0]));
        // Phrasings the FAQ no longer holds are forgotten.
        cache.keep_only(&entries[..1].iter().map(|e| entry(&e.key, "en", &["How do I post?"])).collect::<Vec<_>>());
        assert!(cache.get("Posting a demand").is_none() && cache.get("How do I post?").is_some());
    }
}
