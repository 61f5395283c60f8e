//! The index schema: one document per offer or demand.

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

use crate::analyzer::{BIGRAMS, WORDS};

#[derive(Clone, Copy)]
pub(crate) struct Fields {
    /// `offer:12`: the unique key documents are replaced by.
    pub key: Field,
    pub kind: Field,
    pub id: Field,
    pub title: Field,
    pub text: Field,
    pub bigrams: Field,
    pub category: Field,
    pub status: Field,
    pub price: Field,
    pub created_at: Field,
    pub lat: Field,
    pub lon: Field,
    /// Who posted it (provider or requester), so "not your own" is a filter.
    pub party: Field,
    /// Demands: the most they pay (`i64::MAX` without a budget).
    pub pays_up_to: Field,
    /// Demands: how far the offer may be (absent: any distance).
    pub max_km: Field,
    /// The grid cells the document lies in (see `cells.rs`).
    pub cell: Field,
    /// Kind, status, category and cell joined into one term (`pool.rs`).
    pub pool: Field,
}

fn text(tokenizer: &str, stored: bool) -> TextOptions {
    let o = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    if stored { o.set_stored() } else { o }
}

pub(crate) fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let f = Fields {
        key: b.add_text_field("key", STRING),
        kind: b.add_text_field("kind", STRING | STORED),
        id: b.add_i64_field("id", INDEXED | STORED | FAST),
        title: b.add_text_field("title", text(WORDS, true)),
        text: b.add_text_field("text", text(WORDS, true)),
        bigrams: b.add_text_field("bigrams", text(BIGRAMS, false)),
        category: b.add_text_field("category", STRING | STORED | FAST),
        status: b.add_text_field("status", STRING | STORED),
        price: b.add_i64_field("price", INDEXED | STORED | FAST),
        created_at: b.add_i64_field("created_at", INDEXED | FAST),
        lat: b.add_f64_field("lat", INDEXED | STORED | FAST),
        lon: b.add_f64_field("lon", INDEXED | STORED | FAST),
        party: b.add_text_field("party", STRING),
        pays_up_to: b.add_i64_field("pays_up_to", INDEXED | FAST),
        max_km: b.add_f64_field("max_km", FAST),
        cell: b.add_text_field("cell", STRING),
        pool: b.add_text_field("pool", STRING),
    };
    (b.build(), f)
}
