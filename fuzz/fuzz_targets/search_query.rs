//! `GET /v1/search`: any text as the query, with any page (offset and limit
//! from the first bytes), against a small Chinese and English index. A query
//! is answered or refused with an error, never a panic or an abort.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use wantloop_core::{GeoPoint, Offer};
use wantloop_search::{Kind, SearchIndex, SearchRequest};

fn index() -> &'static SearchIndex {
    static INDEX: OnceLock<SearchIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let idx = SearchIndex::in_memory().expect("in-memory index");
        let texts = [
            "九成新山地自行车 变速",
            "实木书桌 一米二",
            "maths tutoring, weekends",
            "借了钱可以取消吗",
            "AND OR NOT \"quoted\" -minus",
        ];
        for (i, text) in texts.iter().enumerate() {
            let id = i as i64 + 1;
            let offer = Offer {
                location: Some(GeoPoint { lat: 30.0, lon: 120.0 }),
                created_at: id,
                updated_at: id,
                ..Offer::available(id, "p", text, "bicycles", 100 * id)
            };
            idx.upsert_offer(&offer).expect("index an offer");
        }
        idx.commit(1).expect("commit");
        idx
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let offset = u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize;
    let limit = u32::from_le_bytes([data[4], data[5], data[6], data[7]]) as usize % 1_001;
    let q = String::from_utf8_lossy(&data[8..]).into_owned();
    let request = SearchRequest { q, kind: Some(Kind::Offer), limit: limit.max(1), offset, ..Default::default() };
    let _ = index().search(&request);
});
