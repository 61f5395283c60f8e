//! What one arm of the simulation knows of the market — the warm-up's
//! ratings and the outcomes revealed to it since — and the product's
//! features computed from that knowledge: the matcher's own feature function
//! (`wantloop_match::score::pair_features`) and the signals the engine
//! derives from outcomes and interactions (`Signals::from_counts`, the engine's
//! one definition), with affinity from an EASE recommender fitted on the
//! ratings the arm knows.

use std::collections::{HashMap, HashSet};

use wantloop_core::FeatureScores;
use wantloop_match::Signals;
use wantloop_match::score::{DemandTerms, OfferTerms, pair_features};
use wantloop_match::scoring::PRIOR_RATING;
use wantloop_ml::recommender::{self, Params, Recommender};

use super::market::{GOOD_RATING, Rating};

/// EASE's regulariser for affinity (MovieLens-100K's tuned value, README).
const EASE_LAMBDA: f64 = 400.0;

#[derive(Clone, Default)]
pub struct Knowledge {
    ratings: Vec<(u32, u32, f32)>,
    known: HashSet<(u32, u32)>,
    /// Per title (its own provider): proposals and acceptances revealed.
    outcomes: HashMap<u32, (u32, u32)>,
}

impl Knowledge {
    pub fn from_ratings(ratings: &[Rating]) -> Self {
        let mut k = Self::default();
        for r in ratings {
            k.add_rating(r.user, r.item, r.rating);
        }
        k
    }

    pub fn add_rating(&mut self, user: u32, item: u32, rating: f32) {
        if self.known.insert((user, item)) {
            self.ratings.push((user, item, rating));
        }
    }

    pub fn add_outcome(&mut self, item: u32, accepted: bool) {
        let o = self.outcomes.entry(item).or_default();
        o.0 += 1;
        o.1 += u32::from(accepted);
    }

    /// The features' inputs as of now; `with_affinity` fits the recommender.
    pub fn snapshot(&self, with_affinity: bool) -> Snapshot {
        let mut items: HashMap<u32, (f64, f64)> = HashMap::new();
        let (mut n, mut sum) = (0.0, 0.0);
        for &(_, item, r) in &self.ratings {
            let e = items.entry(item).or_default();
            e.0 += 1.0;
            e.1 += f64::from(r);
            n += 1.0;
            sum += f64::from(r);
        }
        let mean = if n > 0.0 { sum / n } else { PRIOR_RATING };
        let model = with_affinity.then(|| {
            let pairs: Vec<(String, String)> =
                self.ratings.iter().map(|(u, i, _)| (u.to_string(), i.to_string())).collect();
            let x = recommender::from_pairs(&pairs);
            let model = Recommender::fit(&x, &Params::Ease { lambda: EASE_LAMBDA, dropout: 0.0 }).ok();
            let mut histories: HashMap<u32, Vec<u32>> = HashMap::new();
            if let Some(m) = &model {
                for (u, i, _) in &self.ratings {
                    if let Some(idx) = m.item_index(&i.to_string()) {
                        histories.entry(*u).or_default().push(idx);
                    }
                }
            }
            (model, histories)
        });
        Snapshot { items, mean, outcomes: self.outcomes.clone(), model, affinity: HashMap::new() }
    }
}

type Affinity = (Option<Recommender>, HashMap<u32, Vec<u32>>);

pub struct Snapshot {
    items: HashMap<u32, (f64, f64)>,
    mean: f64,
    outcomes: HashMap<u32, (u32, u32)>,
    model: Option<Affinity>,
    /// Per person: their scores over the model's items and the best of them.
    affinity: HashMap<u32, (Vec<f32>, f32)>,
}

impl Snapshot {
    fn affinity(&mut self, user: u32, item: u32) -> f64 {
        let Some((Some(model), histories)) = &self.model else { return 0.0 };
        let (scores, best) = self.affinity.entry(user).or_insert_with(|| {
            let mut seen = histories.get(&user).cloned().unwrap_or_default();
            seen.sort_unstable();
            seen.dedup();
            if seen.is_empty() {
                return (Vec::new(), 0.0);
            }
            let mut scores = Vec::new();
            model.scores(&seen, model.user_index(&user.to_string()), &mut scores);
            let best = scores.iter().copied().fold(0.0f32, f32::max);
            (scores, best)
        });
        match model.item_index(&item.to_string()).and_then(|i| scores.get(i as usize)) {
            Some(s) if *best > 0.0 => f64::from((s / *best).clamp(0.0, 1.0)),
            _ => 0.0,
        }
    }

    /// The matcher's features of offering `item` (listed at `listed_at`, in
    /// seconds) to `user`'s demand for a title of its genre, at `now`.
    pub fn features(&mut self, user: u32, item: u32, listed_at: i64, now: i64) -> FeatureScores {
        let demand = DemandTerms { budget: None, location: None, max_distance_km: None };
        let offer = OfferTerms { price: 0, location: None, created_at: listed_at * 1000 };
        // The demand's text names only the genre, which every candidate has.
        let mut f = pair_features(demand, offer, 1.0, now * 1000);
        f.category_confidence = 1.0;
        let (proposed, accepted) = self.outcomes.get(&item).copied().unwrap_or_default();
        let (n, sum) = self.items.get(&item).copied().unwrap_or_default();
        let (proposed, accepted) = (f64::from(proposed), f64::from(accepted));
        // Each rating is an interaction with the title.
        let mut signals = Signals::from_counts((accepted, proposed - accepted, proposed), n, (sum, n), self.mean);
        signals.affinity = self.affinity(user, item);
        signals.apply(&mut f);
        f
    }
}

pub fn accepted(rating: f32) -> bool {
    rating >= GOOD_RATING
}
