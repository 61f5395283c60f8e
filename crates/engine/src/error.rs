use wantloop_store::StoreError;

/// What the engine's operations can fail with; the HTTP layer maps each
/// variant to one status.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("allocation failed: {0}")]
    Alloc(#[from] wantloop_alloc::AllocError),
    #[error(transparent)]
    Classifier(#[from] wantloop_ml::classifier::ClassifierError),
    #[error("training failed: {0}")]
    Training(String),
    #[error("model {id} cannot be loaded by this build: {reason}")]
    ModelNotLoadable { id: i64, reason: String },
    #[error("search index: {0}")]
    Search(#[from] wantloop_search::SearchError),
    #[error("{0}")]
    Seam(String),
    /// A blocking task died (a panic inside training or solving).
    #[error("background task failed: {0}")]
    Task(String),
    /// An uploaded or queried image was refused (format, size, damage).
    #[error(transparent)]
    Image(#[from] wantloop_image::ImageError),
    /// The sentence model would not load or run.
    #[error(transparent)]
    Sentence(#[from] wantloop_ml::sentence::SentenceError),
    /// A synonym list that does not parse (the line and why).
    #[error(transparent)]
    Synonyms(#[from] wantloop_search::SynonymError),
    /// An input that failed its checks, naming the field.
    #[error(transparent)]
    Invalid(#[from] wantloop_core::ValidationError),
    /// The same long job is already running; try again when it is done.
    #[error("{0}")]
    Busy(&'static str),
}

impl From<crate::indexer::IndexerError> for EngineError {
    fn from(e: crate::indexer::IndexerError) -> Self {
        match e {
            crate::indexer::IndexerError::Store(s) => Self::Store(s),
            crate::indexer::IndexerError::Search(s) => Self::Search(s),
        }
    }
}
