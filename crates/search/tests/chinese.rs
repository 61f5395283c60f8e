//! Chinese and English relevance on small hand-written offers: sub-words,
//! traditional/simplified forms, homophones that must not match, phrase and
//! negative queries, filters, facets, commits and malformed queries.

use wantloop_core::{GeoPoint, Offer};
use wantloop_search::{Kind, MAX_DEPTH, Near, SearchIndex, SearchRequest, Synonyms};

fn offer(id: i64, text: &str, category: &str, price: i64) -> Offer {
    Offer {
        location: Some(GeoPoint { lat: 30.27 + id as f64 * 0.01, lon: 120.15 }),
        created_at: id,
        updated_at: id,
        ..Offer::available(id, "p", text, category, price)
    }
}

/// The offers, searched literally (the analyser and the query syntax alone).
fn index() -> SearchIndex {
    let idx = with_synonyms();
    idx.set_synonyms(0, Synonyms::none());
    idx
}

/// The offers with the bundled bilingual dictionary, as the product searches.
fn with_synonyms() -> SearchIndex {
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
fn synonyms_find_the_other_words_and_language_below_the_literal_ones() {
    let idx = with_synonyms();
    let bikes = [1, 3, 6, 7];
    for q in ["bike", "bicycles"] {
        assert_eq!(ids(&idx, q), bikes, "{q}");
    }
    // Chinese queries keep their literal characters' recall too (单 of 简单).
    for q in ["自行车", "单车", "山地车"] {
        let found = ids(&idx, q);
        assert!(bikes.iter().all(|b| found.contains(b)), "{q}: {found:?}");
    }
    // A literal match ranks above one through a synonym.
    let ranked = |q: &str| {
        let r = SearchRequest { q: q.into(), limit: 20, ..Default::default() };
        idx.search(&r).unwrap().hits.iter().map(|h| h.id).collect::<Vec<_>>()
    };
    assert_eq!(ranked("bike")[0], 7);
    assert_ne!(ranked("自行车")[0], 7);
    assert!(bikes.contains(&ranked("山地车")[0]));
    // An operator's list on top; an older version never replaces a newer one.
    assert!(ids(&idx, "宜家").contains(&2) && !ids(&idx, "宜家").contains(&5));
    let own = Synonyms::bundled().and(&Synonyms::parse("宜家 => 小说").unwrap());
    assert!(idx.set_synonyms(2, own));
    assert!(ids(&idx, "宜家").contains(&5));
    assert!(!idx.set_synonyms(1, Synonyms::none()), "version 1 is older than 2");
    assert!(ids(&idx, "宜家").contains(&5));
    assert_eq!(idx.synonyms_version(), 2);
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
fn any_text_is_searched_as_text_never_rejected() {
    let idx = index();
    // Real review texts that query syntax used to reject (a colon read as a
    // field, brackets as groups), operators without operands, lone quotes.
    let odd = [
        "悟空爱白骨精:我早就开始要求自行车",
        "(1)内存有点小。 (2)附赠的鼠标太小",
        "AND",
        "(",
        "category:",
        "-",
        "\"\"",
        "自行车 AND",
        "\"unclosed",
        "title:书桌",
        "a OR OR b",
        "[1] {2} ~3 ^4 *5 \\ / ! @ # $ %",
        "NOT",
    ];
    for q in odd {
        let r = idx.search(&SearchRequest { q: q.into(), limit: 5, ..Default::default() });
        assert!(r.is_ok(), "{q:?}: {r:?}");
    }
    assert!(ids(&idx, "悟空爱白骨精:我早就开始要求自行车").contains(&1), "the words after a colon still count");
    assert_eq!(ids(&idx, "title:书桌"), [2], "a colon is text, not a field");
    let both = ids(&idx, "(1)山地自行车 (2)书桌");
    assert!(both.contains(&1) && both.contains(&2), "{both:?}");
    assert!(ids(&idx, "(").is_empty(), "nothing analysable matches nothing");
}

#[test]
fn a_question_without_spaces_is_a_bag_of_terms_not_a_phrase() {
    let idx = SearchIndex::in_memory().unwrap();
    let pool = [(1, "可否取消"), (2, "额度怎么提升"), (3, "怎么修改绑定的银行卡")];
    for (id, text) in pool {
        idx.upsert_offer(&offer(id, text, "faq", 0)).unwrap();
    }
    idx.commit(3).unwrap();
    let top = |q: &str| idx.search(&SearchRequest { q: q.into(), limit: 3, ..Default::default() }).unwrap().hits;
    // Read as a phrase, none of these would match anything.
    assert_eq!(top("借了钱，但还没有通过，可以取消吗？")[0].id, 1, "shares 取消 with the gold answer");
    assert_eq!(top("我的额度能提升吗")[0].id, 2);
    assert_eq!(top("银行卡能修改吗")[0].id, 3);
    assert!(!top("可否取消").is_empty());
}

#[test]
fn paging_deeper_than_the_ranking_depth_is_an_error_not_an_abort() {
    let idx = index();
    let deep = SearchRequest { q: "bike".into(), limit: 20, offset: 100_000_000_000, ..Default::default() };
    assert!(matches!(idx.search(&deep), Err(wantloop_search::SearchError::TooDeep { .. })));
    let last_page = SearchRequest { q: "bike".into(), limit: 20, offset: MAX_DEPTH - 20, ..Default::default() };
    assert!(idx.search(&last_page).unwrap().hits.is_empty());
}

#[test]
fn more_like_an_offer_ranks_similar_texts_and_leaves_it_out() {
    let idx = index();
    let r = SearchRequest { more_like: Some(6), limit: 5, ..Default::default() };
    let hits: Vec<i64> = idx.search(&r).unwrap().hits.iter().map(|h| h.id).collect();
    assert!(!hits.contains(&6), "{hits:?}");
    assert!(hits.first().is_some_and(|id| [1, 3].contains(id)), "another bicycle first: {hits:?}");
}

#[test]
fn the_cursor_only_moves_forward_until_a_clear() {
    let idx = SearchIndex::in_memory().unwrap();
    idx.upsert_offer(&offer(1, "自行车", "bicycles", 1)).unwrap();
    idx.commit(10).unwrap();
    // An older batch landing late must not move the cursor back.
    idx.commit(5).unwrap();
    assert_eq!(idx.cursor(), 10);
    idx.clear().unwrap();
    idx.commit(3).unwrap();
    assert_eq!((idx.cursor(), idx.num_docs()), (3, 0), "a rebuild starts over");
}

/// Facets count each matching document once, by its current category, over
/// several segments, after documents were rewritten into another category
/// (their old copies deleted) and with the price and distance rules applied.
#[test]
fn facets_follow_rewrites_across_segments_and_agree_with_the_total() {
    let idx = SearchIndex::in_memory().unwrap();
    let cats = ["bicycles", "furniture", "books"];
    let mut now: std::collections::BTreeMap<i64, (&str, i64)> = Default::default();
    for batch in 0..3 {
        for i in 0..40 {
            let id = batch * 40 + i;
            let (cat, price) = (cats[(id % 3) as usize], 1_000 * (id % 7 + 1));
            idx.upsert_offer(&offer(id, "九成新自行车 书桌", cat, price)).unwrap();
            now.insert(id, (cat, price));
        }
        idx.commit(batch + 1).unwrap();
    }
    for id in (0..120).step_by(4) {
        idx.upsert_offer(&offer(id, "九成新自行车", "toys", 500)).unwrap();
        now.insert(id, ("toys", 500));
    }
    idx.commit(4).unwrap();
    for (q, price_max, near) in [
        ("自行车", None, None),
        ("书桌", Some(3_000), None),
        ("", None, Some(Near { lat: 30.27, lon: 120.15, km: 3.5 })),
    ] {
        let r = SearchRequest { q: q.into(), price_max, near, limit: 10, ..Default::default() };
        let res = idx.search(&r).unwrap();
        let mut want: std::collections::BTreeMap<String, u64> = Default::default();
        for (id, (cat, price)) in &now {
            let text_ok = q != "书桌" || *cat != "toys";
            let price_ok = price_max.is_none_or(|m| *price <= m);
            // offer(): latitude 30.27 + id × 0.01, about 1.11 km per id.
            let near_ok = near.is_none_or(|_| (*id as f64) * 0.01 * 111.19 <= 3.5);
            if text_ok && price_ok && near_ok {
                *want.entry(cat.to_string()).or_default() += 1;
            }
        }
        assert_eq!(res.facets, want, "{q:?}");
        assert_eq!(res.total as u64, want.values().sum::<u64>(), "{q:?}");
    }
}
