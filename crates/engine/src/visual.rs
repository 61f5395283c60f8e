//! This node's visual index: the vectors of offers' images in an HNSW graph,
//! with what the filters need of each offer (category, price, free units,
//! location). Built from the store's image rows at open, then kept current
//! from the outbox (`image.added`, `image.deleted`, `image.revectored`, and
//! offer and match events for the offers' state), as the text index is — so
//! every node follows uploads and deletions made on any node. Where the
//! search index is on disk, the graph is saved beside it
//! (`visual_snapshot.rs`) and a restart loads it and applies the events
//! since; otherwise, or when the snapshot cannot be trusted, it is rebuilt
//! from the store. Filters run inside the graph search. Only vectors made by
//! this node's extractor are indexed: vectors of other features (the network
//! installed since, or removed) are not comparable until `wantloop reindex
//! --images` re-vectorises them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use wantloop_core::{Event, GeoPoint, Offer, OfferStatus};
use wantloop_image::ann::{Index, Params};
use wantloop_store::{ImageInfo, ImageOwner, Store, StoreError};

/// What a visual search keeps.
#[derive(Debug, Clone, Default)]
pub struct VisualFilter {
    pub category: Option<String>,
    pub max_price: Option<i64>,
    /// Only offers with free units (the default for search).
    pub available_only: bool,
    pub near: Option<(GeoPoint, f64)>,
    /// An offer never in the results (its own similar offers).
    pub exclude_offer: Option<i64>,
}

#[derive(Debug, Clone)]
struct OfferFacts {
    category: String,
    price: i64,
    available: bool,
    location: Option<GeoPoint>,
}

impl OfferFacts {
    fn of(o: &Offer) -> Self {
        Self {
            category: o.category.clone(),
            price: o.price,
            available: o.status == OfferStatus::Available && o.free_units() > 0,
            location: o.location,
        }
    }

    fn passes(&self, offer_id: i64, f: &VisualFilter) -> bool {
        f.exclude_offer != Some(offer_id)
            && f.category.as_ref().is_none_or(|c| *c == self.category)
            && f.max_price.is_none_or(|p| self.price <= p)
            && (!f.available_only || self.available)
            && f.near.is_none_or(|(at, km)| self.location.is_some_and(|l| l.distance_km(&at) <= km))
    }
}

/// An indexed image; its vector is the graph's node at the same position.
pub(crate) struct Slot {
    pub image: ImageInfo,
    pub deleted: bool,
}

pub(crate) struct State {
    pub graph: Index,
    pub slots: Vec<Slot>,
    by_image: HashMap<i64, usize>,
    by_offer: HashMap<i64, Vec<usize>>,
    offers: HashMap<i64, OfferFacts>,
    /// The outbox position applied.
    pub cursor: i64,
}

impl State {
    /// The state of `slots` over `graph` at `cursor`, with the facts of
    /// their offers read from the store.
    async fn assemble(store: &dyn Store, graph: Index, slots: Vec<Slot>, cursor: i64) -> Result<Self, StoreError> {
        let mut offer_ids: Vec<i64> = slots.iter().map(|s| s.image.owner_id).collect();
        offer_ids.sort_unstable();
        offer_ids.dedup();
        let mut offers = HashMap::new();
        for chunk in offer_ids.chunks(PAGE as usize) {
            for o in store.offers_by_ids(chunk).await? {
                offers.insert(o.id, OfferFacts::of(&o));
            }
        }
        let by_image = slots.iter().enumerate().filter(|(_, s)| !s.deleted).map(|(i, s)| (s.image.id, i)).collect();
        let mut by_offer: HashMap<i64, Vec<usize>> = HashMap::new();
        for (i, s) in slots.iter().enumerate() {
            by_offer.entry(s.image.owner_id).or_default().push(i);
        }
        Ok(Self { graph, slots, by_image, by_offer, offers, cursor })
    }
}

/// Where an index came from at open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Loaded from its snapshot, then caught up.
    Snapshot,
    /// Built from the store's image rows.
    Store,
}

/// A visual match: an offer, the image of it that matched and how well.
#[derive(Debug, Clone, PartialEq)]
pub struct VisualHit {
    pub offer_id: i64,
    pub position: i64,
    pub similarity: f32,
}

pub struct VisualIndex {
    features: String,
    state: RwLock<State>,
    applying: tokio::sync::Mutex<()>,
    origin: Origin,
    /// Where the snapshot is kept.
    snapshot: Option<PathBuf>,
    /// Images changed since the snapshot was written.
    changed: AtomicBool,
}

/// Image changes are written to the snapshot at most this often, by a
/// background task (`spawn_saver`), never on a request's path.
const SAVE_EVERY: Duration = Duration::from_secs(30);

/// Image rows read per query while building.
const PAGE: u32 = 1_000;
/// Outbox events read per query while catching up.
const EVENTS_PER_READ: u32 = 2_000;

impl VisualIndex {
    /// The index of the store's offer images made by `features`: loaded
    /// from `snapshot` when it holds one that can be trusted, else built
    /// from the store (and saved there).
    pub async fn open(store: &dyn Store, features: String, snapshot: Option<PathBuf>) -> Result<Self, StoreError> {
        let loaded = match &snapshot {
            Some(path) => crate::visual_snapshot::load(store, path, &features).await?,
            None => None,
        };
        let (state, origin) = match loaded {
            Some((graph, slots, cursor)) => (State::assemble(store, graph, slots, cursor).await?, Origin::Snapshot),
            None => (Self::build_state(store, &features).await?, Origin::Store),
        };
        let index = Self {
            features,
            state: RwLock::new(state),
            applying: tokio::sync::Mutex::new(()),
            origin,
            snapshot,
            changed: AtomicBool::new(false),
        };
        let applied = index.catch_up(store).await?;
        if origin == Origin::Store || applied > 0 {
            index.save().await;
        }
        Ok(index)
    }

    /// Builds the state from the store's image rows made by `features`.
    async fn build_state(store: &dyn Store, features: &str) -> Result<State, StoreError> {
        // The cursor first: events after it are applied on top, so nothing
        // written during the build is missed (an image read twice is kept once).
        let cursor = store.last_event_id().await?;
        let mut slots = Vec::new();
        let mut after = 0;
        loop {
            let page = store.image_vectors_after(after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.info.id;
            slots.extend(page.into_iter().filter(|v| v.info.owner == ImageOwner::Offer && v.info.features == features));
        }
        let vectors: Vec<Vec<f32>> = slots.iter().map(|v| v.vector.clone()).collect();
        let graph = Index::build(&vectors, Params::default());
        let slots = slots.into_iter().map(|v| Slot { image: v.info, deleted: false }).collect();
        State::assemble(store, graph, slots, cursor).await
    }

    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// Writes the snapshot (when the index has a place for one); a failure
    /// is logged, as the store can always rebuild the index.
    pub async fn save(&self) {
        let Some(path) = &self.snapshot else { return };
        let bytes = {
            let s = self.state.read().expect("visual index lock");
            crate::visual_snapshot::encode(&self.features, &s)
        };
        if let Err(e) = crate::visual_snapshot::write(path, &bytes).await {
            tracing::warn!(path = %path.display(), error = %e, "cannot save the visual index");
            self.changed.store(true, Ordering::Relaxed);
        }
    }

    /// Starts the task that writes the snapshot every [`SAVE_EVERY`] while
    /// images change; it ends with the index.
    pub fn spawn_saver(self: &Arc<Self>) {
        if self.snapshot.is_none() {
            return;
        }
        let index = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SAVE_EVERY);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(index) = index.upgrade() else { break };
                if index.changed.swap(false, Ordering::Relaxed) {
                    index.save().await;
                }
            }
        });
    }

    /// Images indexed (deleted ones excluded).
    pub fn len(&self) -> usize {
        self.state.read().expect("visual index lock").by_image.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Applies the outbox events after the index's cursor.
    pub async fn catch_up(&self, store: &dyn Store) -> Result<usize, StoreError> {
        let _one_at_a_time = self.applying.lock().await;
        let mut cursor = self.state.read().expect("visual index lock").cursor;
        let mut applied = 0;
        let mut images = 0;
        loop {
            let events = store.events_after(cursor, EVENTS_PER_READ).await?;
            let Some(last) = events.last().map(|e| e.id) else { break };
            for e in &events {
                self.apply(store, e).await?;
            }
            images += events.iter().filter(|e| e.entity == "image").count();
            cursor = last;
            applied += events.len();
            self.state.write().expect("visual index lock").cursor = cursor;
        }
        if images > 0 {
            self.changed.store(true, Ordering::Relaxed);
        }
        Ok(applied)
    }

    async fn apply(&self, store: &dyn Store, e: &Event) -> Result<(), StoreError> {
        match (e.entity.as_str(), e.kind.as_str()) {
            ("image", kind @ ("image.added" | "image.revectored")) => {
                let Ok(info) = serde_json::from_value::<ImageInfo>(e.payload.clone()) else { return Ok(()) };
                if kind == "image.revectored" {
                    // Its old vector goes; the new one comes in below if it
                    // is of this index's features.
                    let mut s = self.state.write().expect("visual index lock");
                    if let Some(slot) = s.by_image.remove(&info.id) {
                        s.slots[slot].deleted = true;
                    }
                }
                if info.owner != ImageOwner::Offer || info.features != self.features {
                    return Ok(());
                }
                if self.state.read().expect("visual index lock").by_image.contains_key(&info.id) {
                    return Ok(());
                }
                // The vector is read from the row (events stay small); a
                // row deleted since is skipped (its deletion follows).
                let found = store.image_vectors_after(info.id - 1, 1).await?;
                let Some(v) = found.into_iter().find(|v| v.info.id == info.id) else { return Ok(()) };
                let known = self.state.read().expect("visual index lock").offers.contains_key(&info.owner_id);
                let offer = match known {
                    true => None,
                    false => store.offers_by_ids(&[info.owner_id]).await?.into_iter().next(),
                };
                let mut s = self.state.write().expect("visual index lock");
                if let Some(o) = offer {
                    s.offers.insert(o.id, OfferFacts::of(&o));
                }
                let slot = s.slots.len();
                s.graph.insert(&v.vector, slot);
                s.by_image.insert(info.id, slot);
                s.by_offer.entry(info.owner_id).or_default().push(slot);
                s.slots.push(Slot { image: v.info, deleted: false });
            }
            ("image", "image.deleted") => {
                let mut s = self.state.write().expect("visual index lock");
                if let Some(slot) = s.by_image.remove(&e.entity_id) {
                    s.slots[slot].deleted = true;
                }
            }
            ("offer", _) => {
                if let Ok(o) = serde_json::from_value::<Offer>(e.payload.clone()) {
                    self.update_offer(&o);
                }
            }
            ("match", _) => {
                if let Some(o) = e.payload.get("offer").and_then(|v| serde_json::from_value::<Offer>(v.clone()).ok()) {
                    self.update_offer(&o);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn update_offer(&self, o: &Offer) {
        let mut s = self.state.write().expect("visual index lock");
        if let Some(facts) = s.offers.get_mut(&o.id) {
            *facts = OfferFacts::of(o);
        }
    }

    /// The `k` offers whose images are nearest `query`, each by its nearest
    /// image, among those `filter` keeps.
    pub fn search(&self, query: &[f32], k: usize, filter: &VisualFilter) -> Vec<VisualHit> {
        let s = self.state.read().expect("visual index lock");
        let keep = |slot: usize| {
            let x = &s.slots[slot];
            !x.deleted && s.offers.get(&x.image.owner_id).is_some_and(|f| f.passes(x.image.owner_id, filter))
        };
        // An offer may have several images: ask for more, keep each offer's best.
        let hits = s.graph.search(query, k.saturating_mul(4), Some(&keep));
        let mut out: Vec<VisualHit> = Vec::with_capacity(k);
        for h in hits {
            let image = &s.slots[h.id].image;
            if out.iter().all(|o| o.offer_id != image.owner_id) {
                out.push(VisualHit { offer_id: image.owner_id, position: image.position, similarity: h.similarity });
            }
            if out.len() == k {
                break;
            }
        }
        out
    }

    /// The vectors of an offer's indexed images.
    pub fn vectors_of(&self, offer_id: i64) -> Vec<Vec<f32>> {
        let s = self.state.read().expect("visual index lock");
        let slots = s.by_offer.get(&offer_id).map(Vec::as_slice).unwrap_or_default();
        slots.iter().filter(|&&i| !s.slots[i].deleted).map(|&i| s.graph.vector_of(i).to_vec()).collect()
    }

    pub fn features(&self) -> &str {
        &self.features
    }
}

/// Demands' visual vectors, to compare with offers' images: the visual
/// matching feature (`FeatureScores::visual`).
#[derive(Clone, Default)]
pub struct DemandLooks {
    by_demand: HashMap<i64, Vec<Vec<f32>>>,
    index: Option<Arc<VisualIndex>>,
}

impl DemandLooks {
    /// The best cosine between demand `demand_id`'s images and offer
    /// `offer_id`'s, floored at 0; 0 when either has none.
    pub fn visual(&self, demand_id: i64, offer_id: i64) -> f64 {
        let (Some(queries), Some(index)) = (self.by_demand.get(&demand_id), &self.index) else { return 0.0 };
        let offer = index.vectors_of(offer_id);
        let best = queries
            .iter()
            .flat_map(|q| offer.iter().map(move |v| wantloop_image::ann::dot(q, v)))
            .fold(0.0f32, f32::max);
        f64::from(best)
    }
}

impl crate::Engine {
    /// The visual vectors of these demands' images (made by this node's
    /// features), with the offers' index caught up.
    pub(crate) async fn demand_looks(&self, demands: &[i64]) -> Result<DemandLooks, StoreError> {
        let mut by_demand: HashMap<i64, Vec<Vec<f32>>> = HashMap::new();
        for chunk in demands.chunks(1000) {
            for v in self.store.image_vectors_of(ImageOwner::Demand, chunk).await? {
                if v.info.features == self.visual.features() {
                    by_demand.entry(v.info.owner_id).or_default().push(v.vector);
                }
            }
        }
        if by_demand.is_empty() {
            return Ok(DemandLooks::default());
        }
        self.visual.catch_up(self.store.as_ref()).await?;
        Ok(DemandLooks { by_demand, index: Some(self.visual.clone()) })
    }
}
