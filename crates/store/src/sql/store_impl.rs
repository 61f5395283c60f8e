//! [`Store`] for [`SqlStore`]: each operation is one `write` transaction (or a
//! plain read) over the row modules.

use async_trait::async_trait;
use wantloop_core::demand::NewDemand;
use wantloop_core::matching::Relist;
use wantloop_core::{
    Demand, DemandStatus, Event, Interaction, Match, MatchTransition, NewInteraction, NewOffer, Offer,
};

use super::{
    SqlStore, bulk, cluster, demands, faq, images, interactions, jobs, keys, matches, models, offers, outbox,
    retention, review, stats, synonyms, write_tx,
};
use crate::Store;
use crate::error::StoreError;
use crate::model::*;

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> Backend {
        SqlStore::backend(self)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(self.pool()).await?;
        Ok(())
    }

    async fn create_demand(
        &self,
        demand: &NewDemand,
        class: &Classification,
        idem: Option<&IdemKey>,
    ) -> Result<Outcome<Demand>, StoreError> {
        write_tx!(self, idem, |w| demands::insert(w, demand, class).await)
    }

    async fn get_demand(&self, id: i64) -> Result<Demand, StoreError> {
        demands::get(self.pool(), id).await
    }

    async fn list_demands(&self, filter: &DemandFilter, page: Page) -> Result<Vec<Demand>, StoreError> {
        demands::list(self.pool(), filter, page).await
    }

    async fn cancel_demand(&self, id: i64, idem: Option<&IdemKey>) -> Result<Outcome<Demand>, StoreError> {
        write_tx!(self, idem, |w| demands::close(w, id, DemandStatus::Cancelled).await)
    }

    async fn create_offer(&self, offer: &NewOffer, idem: Option<&IdemKey>) -> Result<Outcome<Offer>, StoreError> {
        write_tx!(self, idem, |w| offers::insert(w, offer, None).await)
    }

    async fn create_offers(&self, offers: &[NewOffer]) -> Result<Vec<Offer>, StoreError> {
        write_tx!(self, None, |w| bulk::insert_offers(w, offers).await).map(|o| o.done().unwrap_or_default())
    }

    async fn create_demands(&self, demands: &[(NewDemand, Classification)]) -> Result<Vec<Demand>, StoreError> {
        write_tx!(self, None, |w| bulk::insert_demands(w, demands).await).map(|o| o.done().unwrap_or_default())
    }

    async fn get_offer(&self, id: i64) -> Result<Offer, StoreError> {
        offers::get(self.pool(), id).await
    }

    async fn list_offers(&self, filter: &OfferFilter, page: Page) -> Result<Vec<Offer>, StoreError> {
        offers::list(self.pool(), filter, page).await
    }

    async fn withdraw_offer(&self, id: i64, idem: Option<&IdemKey>) -> Result<Outcome<Offer>, StoreError> {
        write_tx!(self, idem, |w| offers::withdraw(w, id).await)
    }

    async fn candidate_offers(&self, demand: &Demand) -> Result<Vec<Offer>, StoreError> {
        offers::candidates(self.pool(), demand).await
    }

    async fn propose_matches(
        &self,
        demand_id: i64,
        proposals: &[NewMatch],
        idem: Option<&IdemKey>,
    ) -> Result<Outcome<Proposal>, StoreError> {
        write_tx!(self, idem, |w| matches::propose(w, demand_id, proposals).await)
    }

    async fn transition_match(
        &self,
        id: i64,
        transition: MatchTransition,
        relist: Option<&Relist>,
        idem: Option<&IdemKey>,
    ) -> Result<Outcome<Match>, StoreError> {
        write_tx!(self, idem, |w| matches::transition(w, id, transition, relist).await)
    }

    async fn get_match(&self, id: i64) -> Result<Match, StoreError> {
        matches::get(self.pool(), id).await
    }

    async fn list_matches(&self, filter: &MatchFilter, page: Page) -> Result<Vec<Match>, StoreError> {
        matches::list(self.pool(), filter, page).await
    }

    async fn expire_due(&self, now: i64) -> Result<ExpirySummary, StoreError> {
        // A page of due rows at a time: each page leaves the set as it is
        // expired (or was accepted, rejected or closed meanwhile), so a sweep
        // holds one page however much fell due.
        const PAGE: i64 = 1_000;
        let mut summary = ExpirySummary::default();
        loop {
            let due = matches::due(self.pool(), self.dialect, now, PAGE).await?;
            for &id in &due {
                match self.transition_match(id, MatchTransition::Expire, None, None).await {
                    Ok(_) => summary.matches_expired += 1,
                    Err(StoreError::IllegalTransition { .. }) => {} // accepted or rejected meanwhile
                    Err(e) => return Err(e),
                }
            }
            if (due.len() as i64) < PAGE {
                break;
            }
        }
        loop {
            let due = demands::due(self.pool(), self.dialect, now, PAGE).await?;
            for &id in &due {
                match write_tx!(self, None, |w| demands::close(w, id, DemandStatus::Expired).await) {
                    Ok(_) => summary.demands_expired += 1,
                    Err(StoreError::IllegalTransition { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            if (due.len() as i64) < PAGE {
                break;
            }
        }
        Ok(summary)
    }

    async fn review_demand(
        &self,
        id: i64,
        category: &str,
        idem: Option<&IdemKey>,
    ) -> Result<Outcome<Demand>, StoreError> {
        write_tx!(self, idem, |w| review::set_category(w, id, category).await)
    }

    async fn add_labels(&self, labels: &[NewLabel]) -> Result<u64, StoreError> {
        let out = write_tx!(self, None, |w| review::add(w, labels).await)?;
        out.done().ok_or_else(|| StoreError::Corrupt("a write without a key was replayed".into()))
    }

    async fn labels_after(&self, after: i64, limit: u32) -> Result<Vec<Label>, StoreError> {
        review::labels_after(self.pool(), after, limit.clamp(1, 100_000)).await
    }

    async fn newest_label_id(&self) -> Result<i64, StoreError> {
        let (id,): (Option<i64>,) = sqlx::query_as("SELECT MAX(id) FROM labels").fetch_one(self.pool()).await?;
        Ok(id.unwrap_or(0))
    }

    async fn register_model(&self, model: &NewModel) -> Result<ModelInfo, StoreError> {
        let Some(blobs) = self.blobs() else {
            let out = write_tx!(self, None, |w| models::register(w, model, models::Bytes::InRow(&model.blob)).await)?;
            return out.done().ok_or_else(|| StoreError::Corrupt("a write without a key was replayed".into()));
        };
        // The object first, then the row that names it: a row never points
        // at bytes that are not there. A registration refused before its
        // commit deletes its object; after any other failure the commit may
        // have happened (a connection lost during COMMIT), so the object
        // stays, at worst an orphan.
        let key = crate::blobs::model_key(&model.kind);
        crate::blobs::put(blobs.as_ref(), &key, model.blob.clone()).await?;
        let stored = models::Bytes::Stored { key: &key, size: model.blob.len() as i64 };
        let out = write_tx!(self, None, |w| models::register(w, model, stored).await);
        match out.and_then(|o| o.done().ok_or_else(|| StoreError::Corrupt("a write without a key was replayed".into())))
        {
            Ok(info) => Ok(info),
            Err(e) => {
                if matches!(
                    e,
                    StoreError::Fenced { .. } | StoreError::IllegalTransition { .. } | StoreError::Corrupt(_)
                ) {
                    crate::blobs::delete(blobs.as_ref(), &key).await;
                } else {
                    tracing::warn!(key, error = %e, "a model registration failed; its object is kept");
                }
                Err(e)
            }
        }
    }

    async fn list_models(&self, kind: Option<&str>) -> Result<Vec<ModelInfo>, StoreError> {
        models::list(self.pool(), kind).await
    }

    async fn get_model(&self, id: i64) -> Result<ModelInfo, StoreError> {
        models::get(self.pool(), id).await
    }

    async fn model_blob(&self, id: i64) -> Result<Vec<u8>, StoreError> {
        match models::blob(self.pool(), id).await? {
            Ok(bytes) => Ok(bytes),
            Err(key) => match self.blobs() {
                Some(blobs) => crate::blobs::get(blobs.as_ref(), &key).await,
                None => Err(StoreError::Blob(format!(
                    "model {id}'s bytes are in an object store ({key}) and this store has none configured"
                ))),
            },
        }
    }

    async fn add_image(&self, image: &NewImage, limit: u32) -> Result<ImageInfo, StoreError> {
        let replayed = || StoreError::Corrupt("a write without a key was replayed".into());
        let Some(blobs) = self.blobs() else {
            let out = write_tx!(self, None, |w| images::insert(w, image, images::Placement::InRow, limit).await)?;
            return out.done().ok_or_else(replayed);
        };
        // The objects first, then the row that names them (as for models).
        let (data, thumb) = crate::blobs::image_keys(image.owner.as_str(), image.owner_id);
        crate::blobs::put(blobs.as_ref(), &data, image.original.clone()).await?;
        crate::blobs::put(blobs.as_ref(), &thumb, image.thumbnail.clone()).await?;
        let place = images::Placement::Stored { data: &data, thumb: &thumb };
        let out = write_tx!(self, None, |w| images::insert(w, image, place, limit).await);
        match out.and_then(|o| o.done().ok_or_else(replayed)) {
            Ok(info) => Ok(info),
            Err(e) => {
                // Refused before the commit (no owner, too many images): the
                // objects go. After other failures the commit may have
                // happened, so they stay, at worst orphans.
                if matches!(
                    e,
                    StoreError::NotFound { .. } | StoreError::TooManyImages { .. } | StoreError::Fenced { .. }
                ) {
                    crate::blobs::delete(blobs.as_ref(), &data).await;
                    crate::blobs::delete(blobs.as_ref(), &thumb).await;
                }
                Err(e)
            }
        }
    }

    async fn images_of(&self, owner: ImageOwner, owner_id: i64) -> Result<Vec<ImageInfo>, StoreError> {
        images::of_owner(self.pool(), owner, owner_id).await
    }

    async fn image_bytes(
        &self,
        owner: ImageOwner,
        owner_id: i64,
        position: i64,
        thumbnail: bool,
    ) -> Result<(ImageInfo, Vec<u8>), StoreError> {
        let (info, bytes) = images::bytes(self.pool(), owner, owner_id, position, thumbnail).await?;
        let bytes = match bytes {
            Ok(b) => b,
            Err(key) => match self.blobs() {
                Some(blobs) => crate::blobs::get(blobs.as_ref(), &key).await?,
                None => {
                    return Err(StoreError::Blob(format!(
                        "image {}'s bytes are in an object store ({key}) and this store has none configured",
                        info.id
                    )));
                }
            },
        };
        Ok((info, bytes))
    }

    async fn delete_image(&self, owner: ImageOwner, owner_id: i64, position: i64) -> Result<ImageInfo, StoreError> {
        let out = write_tx!(self, None, |w| images::delete(w, owner, owner_id, position).await)?;
        let (gone, keys) =
            out.done().ok_or_else(|| StoreError::Corrupt("a write without a key was replayed".into()))?;
        if let Some(blobs) = self.blobs() {
            for key in keys {
                crate::blobs::delete(blobs.as_ref(), &key).await;
            }
        }
        Ok(gone)
    }

    async fn set_image_vector(&self, id: i64, features: &str, vector: &[f32]) -> Result<ImageInfo, StoreError> {
        let out = write_tx!(self, None, |w| images::set_vector(w, id, features, vector).await)?;
        out.done().ok_or_else(|| StoreError::Corrupt("a write without a key was replayed".into()))
    }

    async fn save_synonyms(&self, rules: &str, author: Option<&str>) -> Result<SynonymList, StoreError> {
        let out = write_tx!(self, None, |w| synonyms::save(w, rules, author).await)?;
        out.done().ok_or_else(|| StoreError::Corrupt("a write without a key was replayed".into()))
    }

    async fn current_synonyms(&self) -> Result<Option<SynonymList>, StoreError> {
        Ok(synonyms::newest(self.pool(), 1).await?.into_iter().next())
    }

    async fn synonym_versions(&self, limit: u32) -> Result<Vec<SynonymList>, StoreError> {
        synonyms::newest(self.pool(), limit).await
    }

    async fn save_faq_entries(&self, entries: &[NewFaqEntry]) -> Result<Vec<FaqEntry>, StoreError> {
        let out = write_tx!(self, None, |w| faq::upsert(w, entries).await)?;
        out.done().ok_or_else(|| StoreError::Corrupt("a write without a key was replayed".into()))
    }

    async fn delete_faq_entry(&self, id: i64) -> Result<bool, StoreError> {
        let out = write_tx!(self, None, |w| faq::delete(w, id).await)?;
        out.done().ok_or_else(|| StoreError::Corrupt("a write without a key was replayed".into()))
    }

    async fn faq_entries(&self, after: i64, limit: u32) -> Result<Vec<FaqEntry>, StoreError> {
        faq::list(self.pool(), after, limit).await
    }

    async fn faq_entry(&self, id: i64) -> Result<Option<FaqEntry>, StoreError> {
        faq::get(self.pool(), id).await
    }

    async fn log_question(&self, question: &NewAskedQuestion) -> Result<AskedQuestion, StoreError> {
        let out = write_tx!(self, None, |w| faq::log(w, question).await)?;
        out.done().ok_or_else(|| StoreError::Corrupt("a write without a key was replayed".into()))
    }

    async fn asked_questions(&self, resolved: bool, after: i64, limit: u32) -> Result<Vec<AskedQuestion>, StoreError> {
        faq::asked_list(self.pool(), resolved, after, limit).await
    }

    async fn count_answered_questions(&self) -> Result<u64, StoreError> {
        faq::count_answered(self.pool()).await
    }

    async fn resolve_question(
        &self,
        id: i64,
        entry: Option<i64>,
        add: Option<PhrasingRule>,
    ) -> Result<Option<ResolvedQuestion>, StoreError> {
        let out = write_tx!(self, None, |w| faq::resolve(w, id, entry, add).await)?;
        out.done().ok_or_else(|| StoreError::Corrupt("a write without a key was replayed".into()))
    }

    async fn save_triples(&self, triples: &[Triple]) -> Result<usize, StoreError> {
        let out = write_tx!(self, None, |w| faq::save_triples(w, triples).await)?;
        out.done().ok_or_else(|| StoreError::Corrupt("a write without a key was replayed".into()))
    }

    async fn triples(&self, limit: u32) -> Result<Vec<Triple>, StoreError> {
        faq::triples(self.pool(), limit).await
    }

    async fn image_vectors_after(&self, after: i64, limit: u32) -> Result<Vec<ImageVector>, StoreError> {
        images::vectors_after(self.pool(), after, limit).await
    }

    async fn image_vectors_of(&self, owner: ImageOwner, owner_ids: &[i64]) -> Result<Vec<ImageVector>, StoreError> {
        images::vectors_of(self.pool(), owner, owner_ids).await
    }

    async fn activate_model(&self, id: i64, idem: Option<&IdemKey>) -> Result<Outcome<ModelInfo>, StoreError> {
        write_tx!(self, idem, |w| {
            models::activate(w, id, &Activation::OPERATOR)
                .await
                .and_then(|m| m.ok_or_else(|| StoreError::Corrupt("an unconditional activation was refused".into())))
        })
    }

    async fn activate_model_as(&self, id: i64, how: &Activation) -> Result<Option<ModelInfo>, StoreError> {
        let out = write_tx!(self, None, |w| models::activate(w, id, how).await)?;
        out.done().ok_or_else(|| StoreError::Corrupt("a write without a key was replayed".into()))
    }

    async fn prune_models(&self, kind: &str, keep: ModelRetention) -> Result<Vec<i64>, StoreError> {
        let out = write_tx!(self, None, |w| models::prune(w, kind, keep).await)?;
        let (ids, keys) = out.done().ok_or_else(|| StoreError::Corrupt("a write without a key was replayed".into()))?;
        if let Some(blobs) = self.blobs() {
            for key in &keys {
                crate::blobs::delete(blobs.as_ref(), key).await;
            }
        }
        Ok(ids)
    }

    async fn create_job(&self, kind: &str, idem: Option<&IdemKey>) -> Result<Outcome<Job>, StoreError> {
        write_tx!(self, idem, |w| jobs::create(w, kind).await)
    }

    async fn finish_job(
        &self,
        id: i64,
        outcome: Result<&serde_json::Value, &serde_json::Value>,
    ) -> Result<Job, StoreError> {
        let out = write_tx!(self, None, |w| jobs::finish(w, id, outcome).await)?;
        out.done().ok_or_else(|| StoreError::Corrupt("a write without a key was replayed".into()))
    }

    async fn get_job(&self, id: i64) -> Result<Job, StoreError> {
        jobs::get(self.pool(), id).await
    }

    async fn create_key(&self, key: &wantloop_core::NewKey) -> Result<(wantloop_core::ApiKey, String), StoreError> {
        let secret = crate::keys::new_secret().map_err(|e| StoreError::Corrupt(format!("no random bytes: {e}")))?;
        let hash = crate::keys::hash_secret(&secret);
        let out = write_tx!(self, None, |w| keys::create(w, key, &hash).await)?;
        let created = out.done().ok_or_else(|| StoreError::Corrupt("a write without a key was replayed".into()))?;
        let token = crate::keys::token(created.id, &secret);
        Ok((created, token))
    }

    async fn list_keys(&self) -> Result<Vec<wantloop_core::ApiKey>, StoreError> {
        keys::list(self.pool()).await
    }

    async fn key_with_hash(&self, id: i64) -> Result<Option<(wantloop_core::ApiKey, String)>, StoreError> {
        keys::with_hash(self.pool(), id).await
    }

    async fn revoke_key(&self, id: i64) -> Result<wantloop_core::ApiKey, StoreError> {
        let out = write_tx!(self, None, |w| keys::revoke(w, id).await)?;
        out.done().ok_or_else(|| StoreError::Corrupt("a write without a key was replayed".into()))
    }

    async fn has_admin_key(&self) -> Result<bool, StoreError> {
        keys::any_admin(self.pool()).await
    }

    async fn active_model(&self, kind: &str) -> Result<Option<ModelInfo>, StoreError> {
        models::active(self.pool(), kind).await
    }

    async fn record_interactions(
        &self,
        batch: &[NewInteraction],
        idem: Option<&IdemKey>,
    ) -> Result<Outcome<Vec<Interaction>>, StoreError> {
        write_tx!(self, idem, |w| interactions::record(w, batch).await)
    }

    async fn user_interactions(&self, user: &str, limit: u32) -> Result<Vec<Interaction>, StoreError> {
        interactions::by_user(self.pool(), user, limit.clamp(1, 100_000)).await
    }

    async fn newest_demands(&self, filter: &DemandFilter, limit: u32) -> Result<Vec<Demand>, StoreError> {
        demands::newest(self.pool(), filter, limit).await
    }

    async fn newest_offers(&self, filter: &OfferFilter, limit: u32) -> Result<Vec<Offer>, StoreError> {
        offers::newest(self.pool(), filter, limit).await
    }

    async fn interactions_after(&self, after: i64, limit: u32) -> Result<Vec<Interaction>, StoreError> {
        interactions::after(self.pool(), after, limit.clamp(1, 100_000)).await
    }

    async fn popular_offers(&self, since: i64, limit: u32) -> Result<Vec<(i64, i64)>, StoreError> {
        interactions::popular(self.pool(), since, limit.clamp(1, 10_000)).await
    }

    async fn offers_by_ids(&self, ids: &[i64]) -> Result<Vec<Offer>, StoreError> {
        offers::by_ids(self.pool(), ids).await
    }

    async fn demands_by_ids(&self, ids: &[i64]) -> Result<Vec<Demand>, StoreError> {
        demands::by_ids(self.pool(), ids).await
    }

    async fn record_consumer(&self, name: &str, position: i64) -> Result<(), StoreError> {
        write_tx!(self, None, |w| retention::record_consumer(w, name, position).await).map(|_| ())
    }

    async fn consumer_position(&self, name: &str) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT position FROM consumers WHERE name = $1")
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|(p,)| p))
    }

    async fn events_pruned_through(&self) -> Result<i64, StoreError> {
        retention::pruned_through(self.pool()).await
    }

    fn fenced(&self, fence: Fence) -> std::sync::Arc<dyn Store> {
        std::sync::Arc::new(self.with_fence(fence))
    }

    async fn fence_token(&self, lease: &str) -> Result<u64, StoreError> {
        cluster::highest(self.pool(), lease).await
    }

    async fn claim_run(&self, job: &str, period: i64, node: &str) -> Result<bool, StoreError> {
        let fence = self.fence().cloned();
        let out = write_tx!(self, None, |w| cluster::claim_run(w, fence.as_ref(), job, period, node).await)?;
        out.done().ok_or_else(|| StoreError::Corrupt("a write without a key was replayed".into()))
    }

    async fn latest_runs(&self) -> Result<Vec<JobRun>, StoreError> {
        cluster::latest_runs(self.pool()).await
    }

    async fn job_runs(&self, job: &str, from_period: i64, limit: u32) -> Result<Vec<JobRun>, StoreError> {
        cluster::runs_of(self.pool(), job, from_period, limit.clamp(1, 10_000)).await
    }

    async fn heartbeat(&self, node: &NodeInfo) -> Result<(), StoreError> {
        write_tx!(self, None, |w| cluster::heartbeat(w, node).await)?;
        Ok(())
    }

    async fn nodes(&self, since: i64) -> Result<Vec<NodeInfo>, StoreError> {
        cluster::nodes(self.pool(), since).await
    }

    async fn prune(&self, p: &RetentionPolicy) -> Result<PruneReport, StoreError> {
        retention::prune(self, p).await
    }

    async fn last_event_id(&self) -> Result<i64, StoreError> {
        let (id,): (i64,) =
            sqlx::query_as("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM events").fetch_one(self.pool()).await?;
        // Retention may have deleted every event: the position is still past them.
        Ok(id.max(retention::pruned_through(self.pool()).await?))
    }

    async fn last_event_id_of(&self, kinds: &[&str]) -> Result<i64, StoreError> {
        if kinds.is_empty() {
            return Ok(0);
        }
        // One MAX per kind, so each is answered by the (kind, id) index.
        let parts: Vec<String> =
            (1..=kinds.len()).map(|i| format!("SELECT MAX(id) AS m FROM events WHERE kind = ${i}")).collect();
        let sql = format!("SELECT CAST(COALESCE(MAX(m), 0) AS BIGINT) FROM ({}) AS newest", parts.join(" UNION ALL "));
        let mut q = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(sql));
        for k in kinds {
            q = q.bind(*k);
        }
        Ok(q.fetch_one(self.pool()).await?.0)
    }

    async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<Event>, StoreError> {
        outbox::after(self.pool(), after, limit.clamp(1, Page::MAX_LIMIT)).await
    }

    async fn stats(&self) -> Result<Stats, StoreError> {
        stats::collect(self.pool()).await
    }

    async fn market_counts(&self, limit: u32) -> Result<MarketCounts, StoreError> {
        stats::market_counts(self.pool(), limit.max(1)).await
    }

    async fn match_timeline(&self, since: i64, bucket_ms: i64) -> Result<Vec<(String, i64, i64)>, StoreError> {
        stats::match_timeline(self.pool(), since, bucket_ms).await
    }

    async fn gauges(&self) -> Result<Gauges, StoreError> {
        let consumers: Vec<(String, i64)> =
            sqlx::query_as("SELECT name, position FROM consumers ORDER BY name LIMIT 1000")
                .fetch_all(self.pool())
                .await?;
        let (review_queue,): (i64,) =
            sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM demands WHERE needs_review = 1")
                .fetch_one(self.pool())
                .await?;
        let pool_size = self.pool().size();
        let pool_idle = u32::try_from(self.pool().num_idle()).unwrap_or(u32::MAX);
        Ok(Gauges { consumers, review_queue, pool_size, pool_idle })
    }
}
