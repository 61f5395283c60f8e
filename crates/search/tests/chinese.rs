//! Chinese and English relevance on small hand-written offers: sub-words,
//! traditional/simplified forms, homophones that must not match, phrase and
//! negative queries, filters, facets, commits and malformed queries.

use wantloop_core::{GeoPoint, Offer, OfferStatus};
use wantloop_search::{Kind, Near, SearchIndex, SearchRequest};

fn offer(id: i64, text: &str, category: &str, price: i64) -> Offer {
    Offer {
        id,
        provider: "p".into(),
        text: text.into(),
        category: category.into(),
        price,
        location: Some(GeoPoint { lat: 30.27 + id as f64 * 0.01, lon: 120.15 }),
        capacity: 1,
        reserved: 0,
        consumed: 0,
        status: OfferStatus::Available,
        condition: None,
        origin_offer_id: None,
        origin_match_id: None,
        created_at: id,
        updated_at: id,
    }
}

fn index() -> SearchIndex {
    let idx = SearchIndex::in_memory().unwrap();
    let docs = [
        (1, "待处理的二手山地自行车，九成新", "bicycles", 30_000),
        (2, "宜家书桌 安装简单 可送货", "furniture", 20_000),
        (3, "臺灣製造的公路自行車", "bicycles", 90_000),
        (4, "西湖景点导游服务", "home_services", 10_000),
        (5, "经典小说全集", "books", 5_000),
        (6, "儿童自行车 带辅助轮", "bicycles", 15_000),
        (7, "Used mountain bike, good condition", "bicycles", 25_000),
    ];
    for (id, text, cat, price) in docs {
        idx.upsert_offer(&offer(id, text, cat, price)).unwrap();
    }
    idx.commit(7).unwrap();
    idx
}

fn ids(idx: &SearchIndex, q: &str) -> Vec<i64> {
    let r = SearchRequest { q: q.into(), limit: 20, ..Default::default() };
    let mut v: Vec<i64> = idx.search(&r).unwrap().hits.iter().map(|h| h.id).collect();
    v.sort();
    v
}

#[test]
fn sub_words_match() {
    let idx = index();
    assert!(ids(&idx, "处理").contains(&1), "处理 must find 待处理");
    assert_eq!(ids(&idx, "简单"), [2], "简单 must find 安装简单");
}

#[test]
fn traditional_and_simplified_forms_match_each_other() {
    let idx = index();
    assert!(ids(&idx, "台湾").contains(&3));
    assert!(ids(&idx, "自行車").contains(&1), "traditional query finds simplified text");
}

#[test]
fn homophones_do_not_match() {
    let idx = index();
    assert_eq!(ids(&idx, "景点"), [4]);
    assert_eq!(ids(&idx, "经典"), [5]);
}

#[test]
fn phrases_and_negation_work_in_chinese_and_english() {
    let idx = index();
    let bikes = ids(&idx, "自行车");
    assert!(bikes.contains(&1) && bikes.contains(&6));
    let without_kids = ids(&idx, "自行车 -儿童");
    assert!(without_kids.contains(&1) && !without_kids.contains(&6), "{without_kids:?}");
    assert_eq!(ids(&idx, "\"山地自行车\""), [1]);
    assert_eq!(ids(&idx, "\"mountain bike\""), [7]);
    assert_eq!(ids(&idx, "bikes"), [7], "English stemming");
}

#[test]
fn filters_facets_snippets_and_commits() {
    let idx = index();
    let r = SearchRequest { q: "自行车".into(), price_max: Some(30_000), limit: 10, ..Default::default() };
    let res = idx.search(&r).unwrap();
    let got: Vec<i64> = res.hits.iter().map(|h| h.id).collect();
    assert!(got.iter().all(|id| [1, 6].contains(id)) && !got.is_empty(), "{got:?}");
    assert!(res.hits.iter().any(|h| h.snippet.contains("<b>")), "{:?}", res.hits);
    let all = idx.search(&SearchRequest { q: String::new(), limit: 10, ..Default::default() }).unwrap();
    assert_eq!(all.total, 7);
    assert_eq!(all.facets.get("bicycles"), Some(&4));
    let near = SearchRequest {
        near: Some(Near { lat: 30.28, lon: 120.15, km: 1.5 }),
        kind: Some(Kind::Offer),
        limit: 10,
        ..Default::default()
    };
    let close: Vec<i64> = idx.search(&near).unwrap().hits.iter().map(|h| h.id).collect();
    assert!(close.contains(&1) && !close.contains(&7), "{close:?}");
    // An upsert is visible after the commit, which moves the cursor.
    let q = SearchRequest { q: "书桌".into(), limit: 5, ..Default::default() };
    assert_ne!(idx.search(&q).unwrap().hits[0].price, Some(1));
    idx.upsert_offer(&offer(2, "书桌已售出", "furniture", 1)).unwrap();
    idx.commit(8).unwrap();
    assert_eq!(idx.search(&q).unwrap().hits[0].price, Some(1));
    assert_eq!(idx.cursor(), 8);
    assert_eq!(idx.search(&SearchRequest { q: String::new(), limit: 10, ..Default::default() }).unwrap().total, 7);
}

#[test]
fn malformed_queries_are_errors_not_panics() {
    let idx = index();
    // Odd input may be rejected or read leniently, but must never panic.
    for q in ["AND", "(", "category:", "-", "\"\"", "自行车 AND"] {
        let _ = idx.search(&SearchRequest { q: q.into(), limit: 5, ..Default::default() });
    }
    assert!(idx.search(&SearchRequest { q: "\"unclosed".into(), limit: 5, ..Default::default() }).is_err());
}
