//! The active classifier of this process, swapped in place when the registry's
//! active model changes (by this node's API, another node, or the CLI), so a
//! newly activated model serves without a restart.

use std::sync::{Arc, RwLock};

use wantloop_ml::Classifier;
use wantloop_store::{ModelInfo, Store, StoreError};

pub const CLASSIFIER: &str = "classifier";

/// A loaded model with its registry entry.
pub struct Loaded {
    pub info: ModelInfo,
    pub model: Classifier,
}

#[derive(Default, Clone)]
pub struct ClassifierSlot {
    current: Arc<RwLock<Option<Arc<Loaded>>>>,
}

impl ClassifierSlot {
    pub fn get(&self) -> Option<Arc<Loaded>> {
        self.current.read().ok().and_then(|g| g.clone())
    }

    fn set(&self, loaded: Option<Arc<Loaded>>) {
        if let Ok(mut g) = self.current.write() {
            *g = loaded;
        }
    }

    /// Loads the registry's active classifier if it is not the one in use.
    /// Returns whether the slot changed.
    pub async fn refresh(&self, store: &dyn Store) -> Result<bool, StoreError> {
        let active = store.active_model(CLASSIFIER).await?;
        let current = self.get().map(|l| l.info.id);
        match active {
            None if current.is_some() => {
                self.set(None);
                Ok(true)
            }
            Some(info) if Some(info.id) != current => {
                let bytes = store.model_blob(info.id).await?;
                let model = tokio::task::spawn_blocking(move || Classifier::from_bytes(&bytes))
                    .await
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?
                    .map_err(|e| StoreError::Corrupt(format!("model {}: {e}", info.id)))?;
                tracing::info!(model = %info.tag(), "classifier loaded");
                self.set(Some(Arc::new(Loaded { info, model })));
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
