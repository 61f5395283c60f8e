//! The market's signals for the matcher's learned features: each provider's
//! outcomes and each offer's interactions, from a snapshot that a
//! background task refreshes (two grouped scans, never run by a request);
//! and, per request, the requester's affinity for each candidate from the
//! active recommender. Every proposal records the features it was scored
//! with, signals included, whether the v1 weights or a ranker scored it:
//! those records are what a ranker learns from (`retrain/ranker.rs`), so
//! what it learns from is exactly what it is served.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use wantloop_core::{MatchStatus, Offer};
use wantloop_match::Signals;
use wantloop_match::scoring::PRIOR_RATING;
use wantloop_ml::recommender::Recommender;
use wantloop_store::{MarketCounts, OfferInteractions, StoreError};

use crate::Engine;
use crate::models::Loaded;

/// Rows each grouped scan returns at most: providers × statuses, and offers.
const MARKET_ROWS: u32 = 500_000;
/// How often a serving node refreshes the snapshot.
pub(crate) const REFRESH_EVERY: Duration = Duration::from_secs(60);
/// History read for a requester's affinity (as recommendations read).
const HISTORY_LIMIT: u32 = 1_000;

#[derive(Debug, Clone, Copy, Default)]
struct ProviderOutcomes {
    fulfilled: i64,
    failed: i64,
    total: i64,
}

#[derive(Debug, Default)]
pub struct MarketSignals {
    providers: HashMap<String, ProviderOutcomes>,
    offers: HashMap<i64, OfferInteractions>,
    mean_rating: f64,
}

impl MarketSignals {
    fn from_counts(c: MarketCounts) -> Self {
        let mut providers: HashMap<String, ProviderOutcomes> = HashMap::new();
        for (provider, status, n) in c.provider_matches {
            let p = providers.entry(provider).or_default();
            p.total += n;
            match MatchStatus::parse("status", &status) {
                Ok(MatchStatus::Fulfilled) => p.fulfilled += n,
                Ok(MatchStatus::Rejected | MatchStatus::Expired) => p.failed += n,
                _ => {}
            }
        }
        let (n, sum) = c.offer_interactions.iter().fold((0i64, 0.0), |(n, s), o| (n + o.ratings, s + o.rating_sum));
        let mean_rating = if n > 0 { sum / n as f64 } else { PRIOR_RATING };
        let offers = c.offer_interactions.into_iter().map(|o| (o.offer_id, o)).collect();
        Self { providers, offers, mean_rating }
    }

    /// The offer's signals (affinity aside).
    fn of(&self, o: &Offer) -> Signals {
        let p = self.providers.get(&o.provider).copied().unwrap_or_default();
        let i = self.offers.get(&o.id).copied().unwrap_or_default();
        Signals::from_counts(
            (p.fulfilled as f64, p.failed as f64, p.total as f64),
            i.interactions as f64,
            (i.rating_sum, i.ratings as f64),
            self.mean_rating,
        )
    }
}

/// The snapshot a node serves from, swapped whole on refresh.
#[derive(Clone, Default)]
pub(crate) struct SignalSnapshot(Arc<RwLock<Arc<MarketSignals>>>);

impl SignalSnapshot {
    fn get(&self) -> Arc<MarketSignals> {
        self.0.read().map(|g| g.clone()).unwrap_or_default()
    }
}

/// One requester's signals for any offer: the market snapshot and their
/// recommender scores.
pub struct PairSignals {
    market: Arc<MarketSignals>,
    affinity: Option<(Arc<Loaded<Recommender>>, Vec<f32>, f32)>,
}

impl PairSignals {
    pub fn of(&self, o: &Offer) -> Signals {
        let mut s = self.market.of(o);
        if let Some((l, scores, best)) = &self.affinity {
            let score = l.model.item_index(&o.id.to_string()).and_then(|i| scores.get(i as usize)).copied();
            s.affinity = score.map_or(0.0, |x| f64::from((x / best).clamp(0.0, 1.0)));
        }
        s
    }
}

impl Engine {
    /// Reads the market's counts anew (the background task's work; tests
    /// and retraining call it to see the latest outcomes).
    pub async fn refresh_signals(&self) -> Result<(), StoreError> {
        let counts = self.store.market_counts(MARKET_ROWS).await?;
        let fresh = Arc::new(MarketSignals::from_counts(counts));
        if let Ok(mut g) = self.signals.0.write() {
            *g = fresh;
        }
        Ok(())
    }

    /// The signals of pairs with `requester`'s demands.
    pub async fn pair_signals(&self, requester: &str) -> Result<PairSignals, StoreError> {
        let market = self.signals.get();
        let Some(l) = self.recommender().get() else { return Ok(PairSignals { market, affinity: None }) };
        let history = self.store.user_interactions(requester, HISTORY_LIMIT).await?;
        let mut seen: Vec<u32> = history.iter().filter_map(|i| l.model.item_index(&i.offer_id.to_string())).collect();
        seen.sort_unstable();
        seen.dedup();
        if seen.is_empty() {
            return Ok(PairSignals { market, affinity: None });
        }
        let mut scores = Vec::new();
        l.model.scores(&seen, l.model.user_index(requester), &mut scores);
        let best = scores.iter().copied().fold(0.0f32, f32::max);
        let affinity = (best > 0.0).then_some((l, scores, best));
        Ok(PairSignals { market, affinity })
    }
}

/// Refreshes this node's snapshot every [`REFRESH_EVERY`].
pub(crate) async fn refresher(engine: Engine) {
    let mut tick = tokio::time::interval(REFRESH_EVERY);
    loop {
        tick.tick().await;
        if let Err(e) = engine.refresh_signals().await {
            tracing::warn!(error = %e, "market signals refresh failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_ratings_are_smoothed_toward_the_prior() {
        let counts = MarketCounts {
            provider_matches: vec![
                ("bob".into(), "fulfilled".into(), 15),
                ("bob".into(), "rejected".into(), 3),
                ("bob".into(), "expired".into(), 2),
                ("bob".into(), "proposed".into(), 5),
            ],
            offer_interactions: vec![OfferInteractions { offer_id: 7, interactions: 9, ratings: 5, rating_sum: 25.0 }],
        };
        let m = MarketSignals::from_counts(counts);
        let o = Offer::available(7, "bob", "x", "c", 1);
        let s = m.of(&o);
        assert!((s.provider_fulfil_rate - (15.0 + 2.5) / 30.0).abs() < 1e-12);
        assert!((s.provider_reject_rate - (5.0 + 2.5) / 30.0).abs() < 1e-12);
        assert!((s.popularity - 10f64.ln()).abs() < 1e-12);
        // Mean rating 5 everywhere: shrinking toward 5 keeps 5.
        assert!((s.offer_rating - 1.0).abs() < 1e-12);
        let newcomer = m.of(&Offer::available(8, "carol", "x", "c", 1));
        assert_eq!(
            (newcomer.provider_fulfil_rate, newcomer.provider_reject_rate, newcomer.popularity),
            (0.5, 0.5, 0.0)
        );
    }
}
