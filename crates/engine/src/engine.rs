//! The [`Engine`]: one value that owns the store, this node's search index, the
//! served models and the seams, opened one way from one [`EngineConfig`].

use std::sync::Arc;

use tokio::sync::Mutex;
use wantloop_match::Scoring;
use wantloop_ml::Classifier;
use wantloop_ml::ranker::Ranker;
use wantloop_ml::recommender::Recommender;
use wantloop_search::{SearchError, SearchIndex};
use wantloop_store::{IdemKey, ModelInfo, Outcome, SqlStore, Store, StoreError};

use crate::config::{EngineConfig, IndexLocation, MatchConfig};
use crate::error::EngineError;
use crate::indexer;
use crate::models::{self, ModelSlot};
use crate::retrain::RetrainConfig;
use crate::seams::Seams;

/// Bus subject on which a model activation is announced.
pub const MODELS_SUBJECT: &str = "models";

#[derive(Clone)]
pub struct Engine {
    pub(crate) store: Arc<dyn Store>,
    /// Where list reads go: a read replica, or the store itself.
    pub(crate) reads: Arc<dyn Store>,
    pub(crate) config: Arc<EngineConfig>,
    /// One batch allocation at a time per process.
    pub(crate) allocating: Arc<Mutex<()>>,
    /// One retraining run per model kind at a time per process.
    pub(crate) retraining: Arc<crate::retrain::RetrainLocks>,
    pub(crate) classifier: ModelSlot<Classifier>,
    pub(crate) recommender: ModelSlot<Recommender>,
    pub(crate) ranker: ModelSlot<Arc<Ranker>>,
    pub(crate) paraphrase: ModelSlot<Arc<wantloop_ml::paraphrase::ParaphraseScorer>>,
    /// all-MiniLM-L6-v2, when installed: English questions by meaning (`ask.rs`).
    pub(crate) sentences: Option<Arc<wantloop_ml::sentence::SentenceEncoder>>,
    /// The FAQ as this node last loaded it (`ask.rs`).
    pub(crate) assistant: Arc<crate::ask::Assistant>,
    pub(crate) signals: crate::signals::SignalSnapshot,
    pub(crate) search: Arc<SearchIndex>,
    /// Offers' images by their visual vectors (`visual.rs`).
    pub(crate) visual: Arc<crate::visual::VisualIndex>,
    pub(crate) images: Arc<crate::images::Images>,
    pub(crate) seams: Seams,
    /// This node's name in leases and logs.
    pub(crate) node_id: Arc<str>,
    /// Where this node serves, once the server has bound its address.
    pub(crate) address: Arc<std::sync::OnceLock<String>>,
    /// The nodes with a recent heartbeat, as this node last read them: who
    /// owns which leader-only job (see `jobs.rs`).
    pub(crate) live_nodes: Arc<std::sync::RwLock<Vec<wantloop_store::NodeInfo>>>,
    /// The configured index folder was in use, so this is an in-memory copy.
    private_index: bool,
}

impl Engine {
    /// Connects the store (running migrations), opens and catches up the
    /// search index, and loads the active models.
    pub async fn open(config: &EngineConfig) -> Result<Self, EngineError> {
        Self::open_with_seams(config, Seams::in_process()).await
    }

    /// [`Engine::open`] with the given seams (Redis cache and lease when
    /// scaled out).
    pub async fn open_with_seams(config: &EngineConfig, seams: Seams) -> Result<Self, EngineError> {
        let mut store = SqlStore::connect(&config.database_url).await?;
        if let Some(location) = &config.blobs {
            store = store.with_blobs(wantloop_store::open_blobs(location)?);
        }
        let store: Arc<dyn Store> = Arc::new(store);
        let engine = Self::with_seams(store, config, seams).await?;
        match &config.read_database_url {
            Some(url) => Ok(engine.with_reads(Arc::new(SqlStore::connect_replica(url).await?))),
            None => Ok(engine),
        }
    }

    /// This engine with list reads served by `reads` (a read replica).
    pub fn with_reads(self, reads: Arc<dyn Store>) -> Self {
        Self { reads, ..self }
    }

    /// The store list reads go to: the read replica if one is configured.
    /// What a client wrote may take the replication delay to show here.
    pub fn reads(&self) -> &Arc<dyn Store> {
        &self.reads
    }

    /// [`Engine::open`] over a store the caller already holds (tests, demo).
    pub async fn with_store(store: Arc<dyn Store>, config: &EngineConfig) -> Result<Self, EngineError> {
        Self::with_seams(store, config, Seams::in_process()).await
    }

    pub async fn with_seams(store: Arc<dyn Store>, config: &EngineConfig, seams: Seams) -> Result<Self, EngineError> {
        // Off the async workers; at 1M offers the first match after a start
        // otherwise took 120 ms, and every request behind it waited.
        let _ = tokio::task::spawn_blocking(wantloop_text::warm_up).await;
        let (search, private_index) = open_index(store.as_ref(), &config.index).await?;
        let search = Arc::new(search);
        // The operators' synonyms on top of the bundled ones; later versions
        // arrive as events.
        if let Some(list) = store.current_synonyms().await? {
            crate::synonyms::apply(&search, &list);
        }
        let weights = config.images.model.clone();
        let extractor =
            tokio::task::spawn_blocking(move || wantloop_image::Extractor::from_weights(weights.as_deref()))
                .await
                .map_err(|e| EngineError::Task(e.to_string()))??;
        // The graph's snapshot lives beside a search index on disk that this
        // process owns (a private copy's owner keeps its own).
        let snapshot = match &config.index {
            IndexLocation::Dir(dir) if !private_index => Some(dir.with_extension("visual")),
            _ => None,
        };
        let visual = Arc::new(crate::visual::VisualIndex::open(store.as_ref(), extractor.describe(), snapshot).await?);
        visual.spawn_saver();
        let sentences = match config.sentence_model.clone() {
            Some(dir) => Some(Arc::new(
                tokio::task::spawn_blocking(move || wantloop_ml::sentence::SentenceEncoder::load(&dir))
                    .await
                    .map_err(|e| EngineError::Task(e.to_string()))??,
            )),
            None => None,
        };
        let images = Arc::new(crate::images::Images::new(extractor, config.images.limits, config.images.max_per_owner));
        let engine = Self {
            reads: store.clone(),
            store,
            config: Arc::new(config.clone()),
            allocating: Arc::new(Mutex::new(())),
            retraining: Arc::default(),
            classifier: ModelSlot::default(),
            recommender: ModelSlot::default(),
            ranker: ModelSlot::default(),
            paraphrase: ModelSlot::default(),
            sentences,
            assistant: Arc::default(),
            signals: Default::default(),
            search,
            visual,
            images,
            seams,
            node_id: format!("node-{:016x}", rand::random::<u64>()).into(),
            address: Arc::default(),
            live_nodes: Arc::default(),
            private_index,
        };
        engine.refresh_models().await?;
        engine.refresh_signals().await?;
        Ok(engine)
    }

    /// This node's name as an outbox consumer: only a persistent index needs
    /// old events (an in-memory one is rebuilt at open).
    pub(crate) fn consumer_name(&self) -> Option<String> {
        match &self.config.index {
            IndexLocation::Dir(dir) if !self.private_index => {
                let host = std::env::var("HOSTNAME")
                    .ok()
                    .or_else(|| std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_string()))
                    .unwrap_or_else(|| "localhost".into());
                Some(format!("search-index:{host}:{}", dir.display()))
            }
            _ => None,
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn matching(&self) -> &MatchConfig {
        &self.config.matching
    }

    pub fn retrain_config(&self) -> &RetrainConfig {
        &self.config.retrain
    }

    pub fn index(&self) -> &Arc<SearchIndex> {
        &self.search
    }

    /// Whether the configured index folder was held by another process, so
    /// that this engine searches a private in-memory copy (see `open_index`).
    pub fn index_is_private_copy(&self) -> bool {
        self.private_index
    }

    pub fn seams(&self) -> &Seams {
        &self.seams
    }

    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    pub fn classifier(&self) -> &ModelSlot<Classifier> {
        &self.classifier
    }

    pub fn recommender(&self) -> &ModelSlot<Recommender> {
        &self.recommender
    }

    pub fn ranker(&self) -> &ModelSlot<Arc<Ranker>> {
        &self.ranker
    }

    /// What scores matches now: the active ranker, else the v1 weights.
    pub fn scoring(&self) -> Scoring {
        match self.ranker.get() {
            Some(l) => Scoring::Ranker { model: l.model.clone(), id: l.info.id },
            None => Scoring::Weights(self.config.matching.weights),
        }
    }

    /// Brings every served model in step with the registry.
    pub async fn refresh_models(&self) -> Result<(), StoreError> {
        self.classifier.refresh(self.store.as_ref()).await?;
        self.recommender.refresh(self.store.as_ref()).await?;
        self.ranker.refresh(self.store.as_ref()).await?;
        self.paraphrase.refresh(self.store.as_ref()).await?;
        Ok(())
    }

    /// Makes a registered model its kind's active one (an older version: a
    /// rollback), after checking this build can load it; this node serves it at
    /// once and the activation is announced on the bus for the others.
    pub async fn activate_model(&self, id: i64, idem: Option<&IdemKey>) -> Result<Outcome<ModelInfo>, EngineError> {
        let kind = self.store.get_model(id).await?.kind;
        let bytes = self.store.model_blob(id).await?;
        models::check_loadable(&kind, &bytes).map_err(|reason| EngineError::ModelNotLoadable { id, reason })?;
        let out = self.store.activate_model(id, idem).await?;
        self.refresh_models().await?;
        if let Err(e) = self.seams.bus.publish(MODELS_SUBJECT, id.to_string().into_bytes()).await {
            tracing::warn!(error = %e, "cannot announce the model activation; other nodes will poll");
        }
        Ok(out)
    }

    /// Applies the outbox events this node's index has not seen yet (after a
    /// bulk import, so the next `serve` starts current); returns how many. A
    /// private copy (another process holds the index) is skipped: the holder
    /// follows the outbox itself.
    pub async fn catch_up_index(&self) -> Result<usize, EngineError> {
        if self.private_index {
            return Ok(0);
        }
        let applied = indexer::catch_up(self.store.as_ref(), &self.search).await?;
        if applied > 0 {
            let index = self.search.clone();
            if let Err(e) = tokio::task::spawn_blocking(move || merge_segments(&index)).await {
                tracing::warn!(error = %e, "the segment merge stopped");
            }
        }
        Ok(applied)
    }

    /// Rebuilds this node's search index from the store's rows.
    pub async fn rebuild_index(&self, progress: &(dyn Fn(u64) + Sync)) -> Result<u64, EngineError> {
        let n = indexer::rebuild(self.store.as_ref(), &self.search, progress).await?;
        let index = self.search.clone();
        tokio::task::spawn_blocking(move || merge_segments(&index))
            .await
            .map_err(|e| EngineError::Task(e.to_string()))?;
        Ok(n)
    }
}

/// Merges a bulk-loaded index's segments into one (each commit of a long
/// load left a segment, and a query pays for every segment). Only an
/// optimisation: a merge refused (tantivy's own background merges may hold
/// some of the segments) leaves a correct index, so it is logged, not raised.
fn merge_segments(index: &SearchIndex) {
    if let Err(e) = index.merge_segments() {
        tracing::warn!(error = %e, "could not merge the index's segments");
    }
}

/// Opens the index where configured and brings it up to the store. A folder
/// whose writer another process holds (a `wantloop serve` on the same data) is
/// not shared: this process then works on a private in-memory copy rebuilt from
/// the store, which holds the same documents (BM25 statistics may differ slightly: deleted
/// versions still count in the shared index until its segments merge).
async fn open_index(store: &dyn Store, location: &IndexLocation) -> Result<(SearchIndex, bool), EngineError> {
    let (index, private) = match location {
        IndexLocation::Dir(dir) => match SearchIndex::open_or_create(dir) {
            Ok(index) => (index, false),
            Err(SearchError::Locked(why)) => {
                tracing::warn!(dir = %dir.display(), why, "search index in use; using a private copy rebuilt from the store");
                let index = SearchIndex::in_memory()?;
                indexer::rebuild(store, &index, &|_| {}).await?;
                (index, true)
            }
            Err(e) => return Err(e.into()),
        },
        IndexLocation::Memory => (SearchIndex::in_memory()?, false),
    };
    // An index ahead of the store belongs to another database, and one written
    // with an older analysis would not match today's queries: rebuild either.
    if index.cursor() > store.last_event_id().await? || index.needs_rebuild() {
        tracing::warn!("search index is ahead of the store or of an older analysis; rebuilding it");
        indexer::rebuild(store, &index, &|_| {}).await?;
        merge_segments(&index);
    }
    // Catch up before answering, so a restarted node answers from current data.
    indexer::catch_up(store, &index).await?;
    Ok((index, private))
}
