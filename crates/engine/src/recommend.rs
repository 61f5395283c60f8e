//! Serving recommendations: candidates from the active model, then popular
//! offers, then content similarity, each filtered at serve time against the
//! offers' current state — never the user's own offers, never what the user
//! already accepted or received, never exhausted or withdrawn supply — with an
//! optional cap per category for diversity. Every item says which source
//! answered, and a user with no history, or no model, still gets an answer.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use wantloop_core::time::{DAY_MS, now_ms};
use wantloop_core::{InteractionKind, Offer, OfferStatus};
use wantloop_store::{DemandFilter, OfferFilter, Page, StoreError};

use crate::Engine;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recommended {
    pub offer: Offer,
    pub score: f64,
    /// `model` (the active recommender), `popular-recent`, `popular`, `content` or `fresh`.
    pub source: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recommendations {
    pub user: String,
    /// The model that ranked the `model` items, if one is active.
    pub model: Option<String>,
    pub items: Vec<Recommended>,
}

#[derive(Debug, Clone, Default)]
pub struct RecommendOptions {
    pub k: usize,
    pub category: Option<String>,
    /// At most this many items per category.
    pub per_category: Option<usize>,
}

/// Candidate offer ids in order of preference, each with its score and source.
type Candidates = Vec<(i64, f64, &'static str)>;

/// A model's ranking as candidates: model items are offer ids.
fn model_candidates(model: &wantloop_ml::recommender::Recommender, ranked: Vec<(u32, f32)>) -> Candidates {
    ranked
        .into_iter()
        .filter_map(|(i, s)| model.items()[i as usize].parse::<i64>().ok().map(|id| (id, f64::from(s), "model")))
        .collect()
}

/// Keeps the first `k` candidates that pass the serve-time checks.
struct Picker<'a> {
    user: &'a str,
    excluded: HashSet<i64>,
    options: &'a RecommendOptions,
    per_category: HashMap<String, usize>,
    picked: Vec<Recommended>,
}

impl Picker<'_> {
    fn done(&self) -> bool {
        self.picked.len() >= self.options.k
    }

    fn admissible(&self, o: &Offer) -> bool {
        o.status == OfferStatus::Available
            && o.free_units() > 0
            && o.provider != self.user
            && !self.excluded.contains(&o.id)
            && self.options.category.as_ref().is_none_or(|c| *c == o.category)
            && self
                .options
                .per_category
                .is_none_or(|cap| self.per_category.get(&o.category).copied().unwrap_or(0) < cap)
    }

    async fn take(&mut self, engine: &Engine, candidates: Candidates) -> Result<(), StoreError> {
        for chunk in candidates.chunks(200) {
            if self.done() {
                return Ok(());
            }
            let ids: Vec<i64> = chunk.iter().map(|c| c.0).filter(|id| !self.excluded.contains(id)).collect();
            let offers: HashMap<i64, Offer> =
                engine.store().offers_by_ids(&ids).await?.into_iter().map(|o| (o.id, o)).collect();
            for (id, score, source) in chunk {
                let Some(o) = offers.get(id) else { continue };
                if self.done() || !self.admissible(o) {
                    continue;
                }
                *self.per_category.entry(o.category.clone()).or_default() += 1;
                self.excluded.insert(o.id);
                self.picked.push(Recommended { offer: o.clone(), score: *score, source: source.to_string() });
            }
        }
        Ok(())
    }
}

/// The most of a person's interactions one recommendation reads (the newest).
const HISTORY_LIMIT: u32 = 1_000;

impl Engine {
    pub async fn recommend(&self, user: &str, options: &RecommendOptions) -> Result<Recommendations, StoreError> {
        let inputs = (user, options.k, &options.category, options.per_category);
        let key = format!("recommend:{}:{}", self.model_tag(), serde_json::to_string(&inputs).unwrap_or_default());
        self.cached_list(key, || async { Ok((self.compute_recommend(user, options).await?, true)) }).await
    }

    /// The active recommender's tag, part of the lists' cache keys: nodes
    /// pick up an activation at slightly different times.
    fn model_tag(&self) -> String {
        self.recommender().get().map(|l| l.info.tag()).unwrap_or_default()
    }

    async fn compute_recommend(&self, user: &str, options: &RecommendOptions) -> Result<Recommendations, StoreError> {
        let history = self.store().user_interactions(user, HISTORY_LIMIT).await?;
        // Consumed: what the user accepted or received; not shown again.
        let excluded: HashSet<i64> = history
            .iter()
            .filter(|i| matches!(i.kind, InteractionKind::Accept | InteractionKind::Fulfil))
            .map(|i| i.offer_id)
            .collect();
        let mut picker = Picker { user, excluded, options, per_category: HashMap::new(), picked: Vec::new() };
        let loaded = self.recommender().get();
        if let Some(l) = &loaded {
            let seen: Vec<u32> = {
                let mut v: Vec<u32> =
                    history.iter().filter_map(|i| l.model.item_index(&i.offer_id.to_string())).collect();
                v.sort_unstable();
                v.dedup();
                v
            };
            if !seen.is_empty() {
                let mut scores = Vec::new();
                l.model.scores(&seen, l.model.user_index(user), &mut scores);
                let ranked = l.model.top_k(&scores, 2_000, |i| seen.binary_search(&i).is_ok());
                picker.take(self, model_candidates(&l.model, ranked)).await?;
            }
        }
        for (since, source) in [(now_ms() - 30 * DAY_MS, "popular-recent"), (0, "popular")] {
            if picker.done() {
                break;
            }
            let popular = self.store().popular_offers(since, 2_000).await?;
            picker.take(self, popular.into_iter().map(|(id, n)| (id, n as f64, source)).collect()).await?;
        }
        if !picker.done() {
            let content = self.content_candidates(user, options.category.as_deref()).await?;
            picker.take(self, content).await?;
        }
        Ok(Recommendations { user: user.to_string(), model: loaded.map(|l| l.info.tag()), items: picker.picked })
    }

    /// Offers similar to the user's latest demand (token overlap), else the newest.
    async fn content_candidates(&self, user: &str, category: Option<&str>) -> Result<Candidates, StoreError> {
        let filter = DemandFilter { requester: Some(user.to_string()), ..Default::default() };
        let latest = self.store().newest_demands(&filter, 1).await?.pop();
        let category = category.map(str::to_string).or(latest.as_ref().map(|d| d.category.clone()));
        let offers = self
            .store()
            .newest_offers(
                &OfferFilter { status: Some(OfferStatus::Available), category, ..Default::default() },
                Page::MAX_LIMIT,
            )
            .await?;
        Ok(match latest {
            Some(d) => {
                let want = wantloop_text::token_set(&d.text);
                let mut scored: Vec<(i64, f64, &'static str)> = offers
                    .iter()
                    .map(|o| (o.id, wantloop_text::overlap(&want, &wantloop_text::token_set(&o.text)), "content"))
                    .collect();
                scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
                scored
            }
            None => offers.iter().map(|o| (o.id, 0.0, "fresh")).collect(),
        })
    }

    /// Offers like this one: from the model's item–item scores, else by text.
    pub async fn similar(&self, offer_id: i64, k: usize) -> Result<Vec<Recommended>, StoreError> {
        let key = format!("similar:{}:{offer_id}:{k}", self.model_tag());
        self.cached_list(key, || async { Ok((self.compute_similar(offer_id, k).await?, true)) }).await
    }

    async fn compute_similar(&self, offer_id: i64, k: usize) -> Result<Vec<Recommended>, StoreError> {
        let offer = self.store().get_offer(offer_id).await?;
        let options = RecommendOptions { k, ..Default::default() };
        let mut picker = Picker {
            user: "",
            excluded: HashSet::from([offer_id]),
            options: &options,
            per_category: HashMap::new(),
            picked: Vec::new(),
        };
        if let Some(l) = self.recommender().get()
            && let Some(idx) = l.model.item_index(&offer_id.to_string())
        {
            let mut scores = Vec::new();
            l.model.scores(&[idx], None, &mut scores);
            let ranked = l.model.top_k(&scores, 2_000, |i| i == idx);
            picker.take(self, model_candidates(&l.model, ranked)).await?;
        }
        if !picker.done() {
            let offers = self
                .store()
                .newest_offers(
                    &OfferFilter {
                        status: Some(OfferStatus::Available),
                        category: Some(offer.category.clone()),
                        ..Default::default()
                    },
                    Page::MAX_LIMIT,
                )
                .await?;
            let want = wantloop_text::token_set(&offer.text);
            let mut scored: Candidates = offers
                .iter()
                .map(|o| (o.id, wantloop_text::overlap(&want, &wantloop_text::token_set(&o.text)), "content"))
                .collect();
            scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
            picker.take(self, scored).await?;
        }
        Ok(picker.picked)
    }
}
