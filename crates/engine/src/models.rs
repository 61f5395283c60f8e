//! The models this process serves, each swapped in place when the registry's
//! active model of its kind changes (through this node's API, another node,
//! or the CLI), so a newly activated model serves without a restart.

use std::sync::{Arc, RwLock};

use wantloop_ml::Classifier;
use wantloop_ml::ranker::Ranker;
use wantloop_ml::recommender::Recommender;
use wantloop_store::{ModelInfo, Store, StoreError};

pub const CLASSIFIER: &str = "classifier";
pub const RECOMMENDER: &str = "recommender";
pub const RANKER: &str = "ranker";
pub const PARAPHRASE: &str = "paraphrase";

/// A model kind the registry can hold and this build can load.
pub trait Servable: Sized + Send + Sync + 'static {
    const KIND: &'static str;
    fn load(bytes: &[u8]) -> Result<Self, String>;
}

impl Servable for Classifier {
    const KIND: &'static str = CLASSIFIER;
    fn load(bytes: &[u8]) -> Result<Self, String> {
        Classifier::from_bytes(bytes).map_err(|e| e.to_string())
    }
}

impl Servable for Recommender {
    const KIND: &'static str = RECOMMENDER;
    fn load(bytes: &[u8]) -> Result<Self, String> {
        Recommender::from_bytes(bytes).map_err(|e| e.to_string())
    }
}

/// A ranker is served only if it reads exactly the matcher's features; it
/// is kept behind an `Arc` so a request's scorer holds it without a copy.
impl Servable for Arc<Ranker> {
    const KIND: &'static str = RANKER;
    fn load(bytes: &[u8]) -> Result<Self, String> {
        let model = Arc::new(Ranker::from_bytes(bytes).map_err(|e| e.to_string())?);
        wantloop_match::Scoring::ranker(model.clone(), 0)?;
        Ok(model)
    }
}

/// The assistant's paraphrase scorer, shared by concurrent questions.
impl Servable for Arc<wantloop_ml::paraphrase::ParaphraseScorer> {
    const KIND: &'static str = PARAPHRASE;
    fn load(bytes: &[u8]) -> Result<Self, String> {
        wantloop_ml::paraphrase::ParaphraseScorer::from_bytes(bytes).map(Arc::new).map_err(|e| e.to_string())
    }
}

/// Whether bytes registered under `kind` can be loaded by this build.
pub(crate) fn check_loadable(kind: &str, bytes: &[u8]) -> Result<(), String> {
    match kind {
        CLASSIFIER => Classifier::load(bytes).map(|_| ()),
        RECOMMENDER => Recommender::load(bytes).map(|_| ()),
        RANKER => <Arc<Ranker>>::load(bytes).map(|_| ()),
        PARAPHRASE => <Arc<wantloop_ml::paraphrase::ParaphraseScorer>>::load(bytes).map(|_| ()),
        _ => Ok(()),
    }
}

/// A loaded model with its registry entry.
pub struct Loaded<M> {
    pub info: ModelInfo,
    pub model: M,
}

pub struct ModelSlot<M> {
    current: Arc<RwLock<Option<Arc<Loaded<M>>>>>,
}

impl<M> Clone for ModelSlot<M> {
    fn clone(&self) -> Self {
        Self { current: self.current.clone() }
    }
}

impl<M> Default for ModelSlot<M> {
    fn default() -> Self {
        Self { current: Arc::new(RwLock::new(None)) }
    }
}

impl<M: Servable> ModelSlot<M> {
    pub fn get(&self) -> Option<Arc<Loaded<M>>> {
        self.current.read().ok().and_then(|g| g.clone())
    }

    fn set(&self, loaded: Option<Arc<Loaded<M>>>) {
        if let Ok(mut g) = self.current.write() {
            *g = loaded;
        }
    }

    /// Loads the registry's active model of this kind if it is not the one in
    /// use. Returns whether the slot changed.
    pub async fn refresh(&self, store: &dyn Store) -> Result<bool, StoreError> {
        let active = store.active_model(M::KIND).await?;
        let current = self.get().map(|l| l.info.id);
        match active {
            None if current.is_some() => {
                self.set(None);
                Ok(true)
            }
            Some(info) if Some(info.id) != current => {
                let bytes = store.model_blob(info.id).await?;
                let model = tokio::task::spawn_blocking(move || M::load(&bytes))
                    .await
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?
                    .map_err(|e| StoreError::Corrupt(format!("model {}: {e}", info.id)))?;
                tracing::info!(model = %info.tag(), "model loaded");
                self.set(Some(Arc::new(Loaded { info, model })));
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
