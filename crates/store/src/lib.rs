//! The system of record. [`Store`] is the seam between the engine and its storage;
//! [`SqlStore`] implements it once, in portable SQL, for SQLite (the embedded
//! default) and PostgreSQL (scale-out), chosen by the connection URL.
//!
//! Architecture invariants, attacked by `tests/conformance.rs` on both backends:
//! - an offer's `reserved + consumed` never exceeds its `capacity` (guarded
//!   `UPDATE … WHERE reserved + consumed + n <= capacity`, plus a CHECK constraint);
//! - every state change writes its event row in the same transaction (outbox);
//! - a write with an idempotency key takes effect once; its response is stored in
//!   the same transaction and replayed for repeats.

pub mod actor;
mod blobs;
mod error;
pub mod keys;
mod model;
mod sql;
#[cfg(feature = "testing")]
pub mod testing;

use async_trait::async_trait;
use wantloop_core::demand::NewDemand;
use wantloop_core::matching::Relist;
use wantloop_core::{Demand, Event, Interaction, Match, MatchTransition, NewInteraction, NewOffer, Offer};

pub use blobs::{Blobs, open_blobs};
pub use error::StoreError;
pub use model::*;
pub use sql::SqlStore;

/// Storage operations of the engine. Every mutating operation is one
/// transaction, writes its outbox event(s) in it, and honours an optional
/// idempotency key.
#[async_trait]
pub trait Store: Send + Sync {
    /// Which backend answers, for logs and `/readyz`.
    fn backend(&self) -> Backend;
    /// A cheap round trip to the database.
    async fn ping(&self) -> Result<(), StoreError>;

    async fn create_demand(
        &self,
        demand: &NewDemand,
        class: &Classification,
        idem: Option<&IdemKey>,
    ) -> Result<Outcome<Demand>, StoreError>;
    async fn get_demand(&self, id: i64) -> Result<Demand, StoreError>;
    async fn list_demands(&self, filter: &DemandFilter, page: Page) -> Result<Vec<Demand>, StoreError>;
    /// The newest `limit` (at most 1,000) demands matching `filter`, newest first.
    async fn newest_demands(&self, filter: &DemandFilter, limit: u32) -> Result<Vec<Demand>, StoreError>;
    /// Cancels an open or matched demand, releasing the units of its live matches.
    async fn cancel_demand(&self, id: i64, idem: Option<&IdemKey>) -> Result<Outcome<Demand>, StoreError>;

    async fn create_offer(&self, offer: &NewOffer, idem: Option<&IdemKey>) -> Result<Outcome<Offer>, StoreError>;
    /// Posts many offers in one transaction (each with its outbox event), in
    /// order; all or none. For bulk import.
    async fn create_offers(&self, offers: &[NewOffer]) -> Result<Vec<Offer>, StoreError>;
    /// Posts many classified demands in one transaction, as `create_offers`.
    async fn create_demands(&self, demands: &[(NewDemand, Classification)]) -> Result<Vec<Demand>, StoreError>;
    async fn get_offer(&self, id: i64) -> Result<Offer, StoreError>;
    async fn list_offers(&self, filter: &OfferFilter, page: Page) -> Result<Vec<Offer>, StoreError>;
    /// The newest `limit` (at most 1,000) offers matching `filter`, newest first.
    async fn newest_offers(&self, filter: &OfferFilter, limit: u32) -> Result<Vec<Offer>, StoreError>;
    /// Withdraws an offer: no new reservations; its proposed matches expire.
    async fn withdraw_offer(&self, id: i64, idem: Option<&IdemKey>) -> Result<Outcome<Offer>, StoreError>;
    /// Offers that could serve a demand: same category, free units, price within
    /// budget, not the requester's own; the newest 500. Distance is checked by
    /// the matcher.
    async fn candidate_offers(&self, demand: &Demand) -> Result<Vec<Offer>, StoreError>;

    /// Reserves units for each proposal, all in one transaction; a proposal whose
    /// offer or demand no longer has the units is skipped and reported, never
    /// over-booked.
    async fn propose_matches(
        &self,
        demand_id: i64,
        proposals: &[NewMatch],
        idem: Option<&IdemKey>,
    ) -> Result<Outcome<Proposal>, StoreError>;
    async fn transition_match(
        &self,
        id: i64,
        transition: MatchTransition,
        relist: Option<&Relist>,
        idem: Option<&IdemKey>,
    ) -> Result<Outcome<Match>, StoreError>;
    async fn get_match(&self, id: i64) -> Result<Match, StoreError>;
    async fn list_matches(&self, filter: &MatchFilter, page: Page) -> Result<Vec<Match>, StoreError>;

    /// Expires proposed matches and demands whose time has come.
    async fn expire_due(&self, now: i64) -> Result<ExpirySummary, StoreError>;

    /// Sets a demand's category by an operator, clears its review flag and
    /// records the text and category as a labelled example.
    async fn review_demand(
        &self,
        id: i64,
        category: &str,
        idem: Option<&IdemKey>,
    ) -> Result<Outcome<Demand>, StoreError>;
    /// Keeps training examples (a model's base data) beside the operators'
    /// labels, skipping those already kept; returns how many were new.
    async fn add_labels(&self, labels: &[NewLabel]) -> Result<u64, StoreError>;
    /// Labelled examples with `id > after`, oldest first.
    async fn labels_after(&self, after: i64, limit: u32) -> Result<Vec<Label>, StoreError>;
    /// The id of the newest label (0 when there is none).
    async fn newest_label_id(&self) -> Result<i64, StoreError>;

    /// Adds a model to the registry as the next version of its kind (inactive).
    async fn register_model(&self, model: &NewModel) -> Result<ModelInfo, StoreError>;
    async fn list_models(&self, kind: Option<&str>) -> Result<Vec<ModelInfo>, StoreError>;
    async fn get_model(&self, id: i64) -> Result<ModelInfo, StoreError>;
    async fn model_blob(&self, id: i64) -> Result<Vec<u8>, StoreError>;
    /// Makes a model its kind's active one by an operator's choice (rollback
    /// is activating an older one).
    async fn activate_model(&self, id: i64, idem: Option<&IdemKey>) -> Result<Outcome<ModelInfo>, StoreError>;
    /// Makes a model active on `how`'s condition; `None` when another model
    /// became active meanwhile (nothing changed).
    async fn activate_model_as(&self, id: i64, how: &Activation) -> Result<Option<ModelInfo>, StoreError>;
    /// Deletes old versions of a kind by `keep` (never the active one or the
    /// one active before it); returns the deleted ids.
    async fn prune_models(&self, kind: &str, keep: ModelRetention) -> Result<Vec<i64>, StoreError>;
    async fn active_model(&self, kind: &str) -> Result<Option<ModelInfo>, StoreError>;

    /// Stores an image of an offer or demand, at most `limit` per owner: its
    /// bytes first (in the object store, when one is configured), then its
    /// row and `image.added` event.
    async fn add_image(&self, image: &NewImage, limit: u32) -> Result<ImageInfo, StoreError>;
    /// An owner's images, by position.
    async fn images_of(&self, owner: ImageOwner, owner_id: i64) -> Result<Vec<ImageInfo>, StoreError>;
    /// An image with its bytes, or its thumbnail's.
    async fn image_bytes(
        &self,
        owner: ImageOwner,
        owner_id: i64,
        position: i64,
        thumbnail: bool,
    ) -> Result<(ImageInfo, Vec<u8>), StoreError>;
    /// Deletes an image (its row and `image.deleted` event; its objects after
    /// the commit).
    async fn delete_image(&self, owner: ImageOwner, owner_id: i64, position: i64) -> Result<ImageInfo, StoreError>;
    /// Replaces an image's visual vector and the name of the features that
    /// made it (re-vectorising after the network is installed), with an
    /// `image.revectored` event so every node's visual index follows.
    async fn set_image_vector(&self, id: i64, features: &str, vector: &[f32]) -> Result<ImageInfo, StoreError>;
    /// Images with `id > after`, oldest first, with their visual vectors (at
    /// most 1,000): what a visual index is built from.
    async fn image_vectors_after(&self, after: i64, limit: u32) -> Result<Vec<ImageVector>, StoreError>;
    /// The images of these owners (at most 1,000 ids) with their visual
    /// vectors: a demand's images for the visual matching feature.
    async fn image_vectors_of(&self, owner: ImageOwner, owner_ids: &[i64]) -> Result<Vec<ImageVector>, StoreError>;

    /// Saves a new version of the synonym list (already checked), with a
    /// `synonyms.changed` event carrying it, so every node's index follows.
    async fn save_synonyms(&self, rules: &str, author: Option<&str>) -> Result<SynonymList, StoreError>;
    /// The synonym list in force (the newest version), if one was saved.
    async fn current_synonyms(&self) -> Result<Option<SynonymList>, StoreError>;
    /// Saved versions, newest first, at most `limit` (rules included).
    async fn synonym_versions(&self, limit: u32) -> Result<Vec<SynonymList>, StoreError>;

    /// Inserts or replaces (by key and language) FAQ entries, already
    /// checked, in one transaction with one `faq.changed` event.
    async fn save_faq_entries(&self, entries: &[NewFaqEntry]) -> Result<Vec<FaqEntry>, StoreError>;
    /// Deletes an FAQ entry (with a `faq.changed` event); false if there was none.
    async fn delete_faq_entry(&self, id: i64) -> Result<bool, StoreError>;
    /// FAQ entries by id after `after`, at most `limit`.
    async fn faq_entries(&self, after: i64, limit: u32) -> Result<Vec<FaqEntry>, StoreError>;
    async fn faq_entry(&self, id: i64) -> Result<Option<FaqEntry>, StoreError>;
    /// Keeps a question the assistant refused or was unsure of.
    async fn log_question(&self, question: &NewAskedQuestion) -> Result<AskedQuestion, StoreError>;
    /// Logged questions by id after `after`: open ones, or resolved ones.
    async fn asked_questions(&self, resolved: bool, after: i64, limit: u32) -> Result<Vec<AskedQuestion>, StoreError>;
    /// How many logged questions an operator answered (with an entry or none).
    async fn count_answered_questions(&self) -> Result<u64, StoreError>;
    /// Records the entry that answers a logged question, or (`entry` `None`)
    /// that none does and refusing it was right; returns `None` when there is
    /// no such question. Under `add`, adds the question to the entry's
    /// phrasings in the same transaction (with a `faq.changed` event).
    async fn resolve_question(
        &self,
        id: i64,
        entry: Option<i64>,
        add: Option<PhrasingRule>,
    ) -> Result<Option<ResolvedQuestion>, StoreError>;
    /// Adds knowledge-graph triples (those not stored yet), with one
    /// `triples.changed` event; returns how many were new.
    async fn save_triples(&self, triples: &[Triple]) -> Result<usize, StoreError>;
    /// The stored triples, oldest first, at most `limit`.
    async fn triples(&self, limit: u32) -> Result<Vec<Triple>, StoreError>;

    /// Starts a job record (`running`); with a key, a repeat returns the job
    /// the first request started.
    async fn create_job(&self, kind: &str, idem: Option<&IdemKey>) -> Result<Outcome<Job>, StoreError>;
    /// Records how a running job ended: its result, or the problem it failed with.
    async fn finish_job(
        &self,
        id: i64,
        outcome: Result<&serde_json::Value, &serde_json::Value>,
    ) -> Result<Job, StoreError>;
    async fn get_job(&self, id: i64) -> Result<Job, StoreError>;

    /// Creates an API key; answers it with the key to hand out (shown once:
    /// only its hash is kept).
    async fn create_key(&self, key: &wantloop_core::NewKey) -> Result<(wantloop_core::ApiKey, String), StoreError>;
    async fn list_keys(&self) -> Result<Vec<wantloop_core::ApiKey>, StoreError>;
    /// A key and the hash of its secret, to check a presented key against.
    async fn key_with_hash(&self, id: i64) -> Result<Option<(wantloop_core::ApiKey, String)>, StoreError>;
    /// Revokes a key (again: no change).
    async fn revoke_key(&self, id: i64) -> Result<wantloop_core::ApiKey, StoreError>;
    /// Whether an unrevoked admin key exists.
    async fn has_admin_key(&self) -> Result<bool, StoreError>;

    /// Records interactions (one transaction, one event); every offer must exist.
    async fn record_interactions(
        &self,
        batch: &[NewInteraction],
        idem: Option<&IdemKey>,
    ) -> Result<Outcome<Vec<Interaction>>, StoreError>;
    /// A user's newest `limit` interactions, oldest first.
    async fn user_interactions(&self, user: &str, limit: u32) -> Result<Vec<Interaction>, StoreError>;
    /// Interactions with `id > after`, oldest first.
    async fn interactions_after(&self, after: i64, limit: u32) -> Result<Vec<Interaction>, StoreError>;
    /// (offer id, interactions) since `since` (ms), most first.
    async fn popular_offers(&self, since: i64, limit: u32) -> Result<Vec<(i64, i64)>, StoreError>;
    /// The offers with these ids that exist, in no particular order.
    async fn offers_by_ids(&self, ids: &[i64]) -> Result<Vec<Offer>, StoreError>;
    /// The demands with these ids that exist, in no particular order.
    async fn demands_by_ids(&self, ids: &[i64]) -> Result<Vec<Demand>, StoreError>;

    /// The id of the newest outbox event, or of the newest retention deleted
    /// (0 when there was none).
    async fn last_event_id(&self) -> Result<i64, StoreError>;
    /// The id of the newest outbox event of any of these kinds (0 when none
    /// is left): an index seek per kind, never a scan.
    async fn last_event_id_of(&self, kinds: &[&str]) -> Result<i64, StoreError>;
    /// Records how far a consumer of the outbox (a node's persistent index)
    /// has read, so retention keeps what it has not passed.
    async fn record_consumer(&self, name: &str, position: i64) -> Result<(), StoreError>;
    /// How far consumer `name` has read (`None`: never recorded).
    async fn consumer_position(&self, name: &str) -> Result<Option<i64>, StoreError>;
    /// The newest event id retention has deleted (0: none): a consumer whose
    /// position is below it has missed events and must rebuild.
    async fn events_pruned_through(&self) -> Result<i64, StoreError>;
    /// Deletes what `policy` says may go, in batches; see `sql/retention.rs`.
    async fn prune(&self, policy: &RetentionPolicy) -> Result<PruneReport, StoreError>;
    /// Outbox events with `id > after`, oldest first.
    async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<Event>, StoreError>;
    async fn stats(&self) -> Result<Stats, StoreError>;
    /// Match counts per provider and status, and interaction counts per offer
    /// (the most interacted-with first), each at most `limit` rows: two
    /// grouped scans that a background task runs, never a request.
    async fn market_counts(&self, limit: u32) -> Result<MarketCounts, StoreError>;
    /// Match events (`match.proposed`, …) at or after `since` per kind and
    /// bucket of `bucket_ms`: `(kind, bucket index, count)`.
    async fn match_timeline(&self, since: i64, bucket_ms: i64) -> Result<Vec<(String, i64, i64)>, StoreError>;
    /// Outbox consumers' positions, the review queue's length and the
    /// connection pool's use, for `/metrics`.
    async fn gauges(&self) -> Result<Gauges, StoreError>;

    /// This store with every write fenced by `fence`: each write transaction
    /// first checks that no higher token of the lease was seen (else
    /// [`StoreError::Fenced`] and nothing changes) and records this one.
    /// Leader-only jobs write through such a copy.
    fn fenced(&self, fence: Fence) -> std::sync::Arc<dyn Store>;
    /// The highest fencing token the store has seen for `lease` (0: none).
    async fn fence_token(&self, lease: &str) -> Result<u64, StoreError>;
    /// Records that `job` runs for `period` on `node` (with this store's
    /// fence, if any, checked in the same transaction); `false` if that
    /// period already ran on some node.
    async fn claim_run(&self, job: &str, period: i64, node: &str) -> Result<bool, StoreError>;
    /// The newest recorded run of every job.
    async fn latest_runs(&self) -> Result<Vec<JobRun>, StoreError>;
    /// Runs of `job` from `period` on, oldest first, at most `limit`.
    async fn job_runs(&self, job: &str, from_period: i64, limit: u32) -> Result<Vec<JobRun>, StoreError>;
    /// Records a heartbeat of `node` (its `last_seen` is the store's clock).
    async fn heartbeat(&self, node: &NodeInfo) -> Result<(), StoreError>;
    /// Nodes whose last heartbeat is at or after `since` (ms), by id.
    async fn nodes(&self, since: i64) -> Result<Vec<NodeInfo>, StoreError>;

    /// Every demand matching `filter`, read page by page.
    async fn all_demands(&self, filter: &DemandFilter) -> Result<Vec<Demand>, StoreError> {
        let mut out = Vec::new();
        let mut page = Page::first(Page::MAX_LIMIT);
        loop {
            let batch = self.list_demands(filter, page).await?;
            let Some(last) = batch.last() else { return Ok(out) };
            page.after = last.id;
            out.extend(batch);
        }
    }

    /// Every offer matching `filter`, read page by page.
    async fn all_offers(&self, filter: &OfferFilter) -> Result<Vec<Offer>, StoreError> {
        let mut out = Vec::new();
        let mut page = Page::first(Page::MAX_LIMIT);
        loop {
            let batch = self.list_offers(filter, page).await?;
            let Some(last) = batch.last() else { return Ok(out) };
            page.after = last.id;
            out.extend(batch);
        }
    }

    /// Every match matching `filter`, read page by page.
    async fn all_matches(&self, filter: &MatchFilter) -> Result<Vec<Match>, StoreError> {
        let mut out = Vec::new();
        let mut page = Page::first(Page::MAX_LIMIT);
        loop {
            let batch = self.list_matches(filter, page).await?;
            let Some(last) = batch.last() else { return Ok(out) };
            page.after = last.id;
            out.extend(batch);
        }
    }
}
