//! The assistant's knowledge graph of the market. Its entities are the
//! market's own: categories (`lexicon.rs`), cities (`gazetteer.rs`),
//! providers and offers (the store's rows), plus imported triples
//! (`subject, relation, object`). Question patterns (`parse.rs`) map to graph
//! queries answered from live data (`answer.rs`): an offer's attributes from
//! its row; counts and price ranges from the search index, which follows the
//! outbox and is caught up before it answers, so a number is the market's as
//! of the question.

mod answer;
pub mod gazetteer;
pub mod lexicon;
pub mod parse;
pub mod triples;

pub use answer::GraphAnswer;
pub(crate) use answer::answer;
pub use triples::{MAX_TRIPLES, TripleImport};
