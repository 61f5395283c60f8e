//! English FAQ phrasings by meaning (the sentence model, `models install
//! text`): their vectors, built beside the lexical FAQ, and the ranking that
//! blends a phrasing's cosine to the question with the entry's word coverage.
//!
//! Embedding costs about 10 ms of a core per phrasing, so a reload embeds at
//! most [`INLINE_EMBEDDINGS`] new phrasings before it answers; a larger FAQ
//! (a first load, a bulk import) is embedded in the background, English
//! questions matched by their words until it is done (an answer's `scorer`
//! says which), and the work stops when a newer FAQ replaces it.

use std::collections::HashMap;
use std::sync::Arc;

use wantloop_ml::paraphrase::{Analysed, Retrieved};
use wantloop_ml::sentence::{SentenceEncoder, cosine};
use wantloop_store::FaqEntry;

use crate::ask::{FaqState, Suggestion};

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

/// The English phrasings' vectors, those of `previous` reused by their
/// text; `None` when more than `limit` would have to be embedded, or when
/// `cancelled` says a newer FAQ made the work moot.
pub(crate) fn embed_phrasings(
    entries: &[FaqEntry],
    encoder: &SentenceEncoder,
    previous: Option<&FaqState>,
    limit: usize,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Option<Meanings> {
    use rayon::prelude::*;
    let known: HashMap<&str, &Arc<[f32]>> = previous
        .and_then(|p| p.meanings().map(|m| (p, m)))
        .into_iter()
        .flat_map(|(p, m)| p.entries().iter().zip(m).flat_map(|(e, v)| e.questions.iter().map(String::as_str).zip(v)))
        .collect();
    let english = entries.iter().filter(|e| e.lang == "en");
    let new = english.flat_map(|e| &e.questions).filter(|q| !known.contains_key(q.as_str())).count();
    if new > limit {
        return None;
    }
    entries
        .par_iter()
        .map(|e| {
            if e.lang != "en" {
                return Some(Vec::new());
            }
            e.questions
                .iter()
                .map(|q| match known.get(q.as_str()) {
                    Some(v) => Some(Arc::clone(v)),
                    None if cancelled() => None,
                    None => match encoder.embed(q) {
                        Ok(v) => Some(Arc::from(v)),
                        // Never expected (any text embeds); the phrasing
                        // then matches by its words alone.
                        Err(e) => {
                            tracing::warn!(error = %e, phrasing = %q, "cannot embed an FAQ phrasing");
                            Some(Arc::from(Vec::new()))
                        }
                    },
                })
                .collect()
        })
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
