//! Graph queries answered from live data, worded in the question's language.

use serde::Serialize;
use wantloop_core::{GeoPoint, Offer, OfferStatus};
use wantloop_search::{Kind, Near, SearchRequest};
use wantloop_store::{StoreError, Triple};

use super::gazetteer::{self, CITIES, CITY_RADIUS_KM, City};
use super::parse::{GraphQuery, OfferAttribute, Subject};
use crate::{Engine, EngineError};

/// An answer from the graph: its text and the query with what it found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GraphAnswer {
    pub text: String,
    /// The graph query, e.g. `count offers category=bicycles status=available near=hangzhou`.
    pub query: String,
    /// The numbers or facts the text states.
    pub facts: serde_json::Value,
}

fn yuan(fen: i64) -> String {
    if fen % 100 == 0 { format!("{}", fen / 100) } else { format!("{:.2}", fen as f64 / 100.0) }
}

fn subject_name(what: &Subject, lang: &str) -> String {
    match (what, lang) {
        (Subject::Category(c), "zh") => c.zh.to_string(),
        (Subject::Category(c), _) => c.en.to_string(),
        (Subject::Item(i), "zh") => format!("「{i}」"),
        (Subject::Item(i), _) => format!("\"{i}\""),
        (Subject::All, _) => String::new(),
    }
}

fn request(what: &Subject, city: Option<&City>) -> SearchRequest {
    let (q, category) = match what {
        Subject::Category(c) => (String::new(), Some(c.slug.to_string())),
        Subject::Item(i) => (format!("\"{}\"", i.replace('"', " ")), None),
        Subject::All => (String::new(), None),
    };
    SearchRequest {
        q,
        kind: Some(Kind::Offer),
        category,
        near: city.map(|c| Near { lat: c.lat, lon: c.lon, km: CITY_RADIUS_KM }),
        status: Some(OfferStatus::Available.as_str().to_string()),
        limit: 1,
        ..Default::default()
    }
}

fn describe(kind: &str, r: &SearchRequest, city: Option<&City>) -> String {
    let mut q = format!("{kind} offers status=available");
    if let Some(c) = &r.category {
        q.push_str(&format!(" category={c}"));
    }
    if !r.q.is_empty() {
        q.push_str(&format!(" text={}", r.q));
    }
    if let Some(c) = city {
        q.push_str(&format!(" within={CITY_RADIUS_KM}km:{}", c.en));
    }
    q
}

fn city_nearest(p: GeoPoint) -> Option<&'static City> {
    CITIES
        .iter()
        .map(|c| (c, p.distance_km(&GeoPoint { lat: c.lat, lon: c.lon })))
        .filter(|(_, d)| *d <= CITY_RADIUS_KM)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _)| c)
}

fn status_name(s: OfferStatus, lang: &str) -> &'static str {
    match (s, lang) {
        (OfferStatus::Available, "zh") => "可用",
        (OfferStatus::Exhausted, "zh") => "已售完",
        (OfferStatus::Withdrawn, "zh") => "已撤回",
        (s, _) => s.as_str(),
    }
}

fn offer_answer(o: &Offer, attribute: OfferAttribute, lang: &str) -> (String, serde_json::Value) {
    let zh = lang == "zh";
    let left = (o.capacity - o.reserved - o.consumed).max(0);
    match attribute {
        OfferAttribute::Provider => (
            if zh {
                format!("报价 {}（{}）由 {} 提供。", o.id, o.text, o.provider)
            } else {
                format!("Offer {} ({}) is provided by {}.", o.id, o.text, o.provider)
            },
            serde_json::json!({ "offer": o.id, "provider": o.provider }),
        ),
        OfferAttribute::Price => (
            if zh {
                format!("报价 {}（{}）的价格是 {} 元。", o.id, o.text, yuan(o.price))
            } else {
                format!("Offer {} ({}) costs ¥{}.", o.id, o.text, yuan(o.price))
            },
            serde_json::json!({ "offer": o.id, "price": o.price }),
        ),
        OfferAttribute::Category => (
            if zh {
                format!("报价 {} 属于 {} 类。", o.id, o.category)
            } else {
                format!("Offer {} is in the {} category.", o.id, o.category)
            },
            serde_json::json!({ "offer": o.id, "category": o.category }),
        ),
        OfferAttribute::Status => (
            if zh {
                format!("报价 {} 的状态是「{}」。", o.id, status_name(o.status, lang))
            } else {
                format!("Offer {} is {}.", o.id, o.status.as_str())
            },
            serde_json::json!({ "offer": o.id, "status": o.status.as_str() }),
        ),
        OfferAttribute::Available => (
            if zh {
                format!("报价 {} 还有 {} 件可用（共 {} 件）。", o.id, left, o.capacity)
            } else {
                format!("Offer {} has {} of {} units left.", o.id, left, o.capacity)
            },
            serde_json::json!({ "offer": o.id, "available": left, "capacity": o.capacity }),
        ),
        OfferAttribute::Condition => {
            let c = o.condition.clone().unwrap_or_else(|| if zh { "未注明".into() } else { "not stated".into() });
            (
                if zh {
                    format!("报价 {} 的成色：{}。", o.id, c)
                } else {
                    format!("Offer {}'s condition: {}.", o.id, c)
                },
                serde_json::json!({ "offer": o.id, "condition": o.condition }),
            )
        }
        OfferAttribute::City => {
            let city = o.location.and_then(city_nearest);
            let text = match (city, zh) {
                (Some(c), true) => format!("报价 {} 在{}。", o.id, c.zh),
                (Some(c), false) => format!("Offer {} is in {}.", o.id, gazetteer::name(c, lang)),
                (None, true) => format!("报价 {} 不在已知的城市附近。", o.id),
                (None, false) => format!("Offer {} is not near a city I know.", o.id),
            };
            (text, serde_json::json!({ "offer": o.id, "city": city.map(|c| c.en) }))
        }
    }
}

use super::triples::{Facts, normalised as norm};

/// Objects a fact answer lists at most.
const MAX_OBJECTS: usize = 20;

/// Objects of `subject —relation→`, the relation matched exactly or as a part.
pub(crate) fn facts<'t>(known: &'t Facts, subject: &str, relation: &str) -> Vec<&'t Triple> {
    let r = norm(relation);
    let about: Vec<&Triple> = known.about(subject).iter().collect();
    let exact: Vec<&Triple> = about.iter().copied().filter(|t| norm(&t.relation) == r).collect();
    if !exact.is_empty() {
        return exact;
    }
    about
        .into_iter()
        .filter(|t| !r.is_empty() && (norm(&t.relation).contains(&r) || r.contains(&norm(&t.relation))))
        .collect()
}

/// Hits read for a question about an item (the index's deepest page).
const ITEM_HITS: usize = 1_000;

/// The offers in any state and place whose own text names `item` (the
/// caller keeps the available ones in the city): the index's phrase match
/// also admits texts with the item's words apart (婴儿床 would count a
/// 婴儿推车), so its hits are read back and kept only if their text has the
/// item as written. Bounded by the first [`ITEM_HITS`] hits; the flag says
/// whether there were more.
async fn item_offers(engine: &Engine, r: &SearchRequest, item: &str) -> Result<(Vec<Offer>, bool), EngineError> {
    let any = SearchRequest { status: None, near: None, limit: ITEM_HITS, ..r.clone() };
    let found = engine.search(&any).await?;
    let ids: Vec<i64> = found.hits.iter().map(|h| h.id).collect();
    let wanted = norm(item);
    let offers = engine.store.offers_by_ids(&ids).await?;
    let offers = offers.into_iter().filter(|o| norm(&o.text).contains(&wanted)).collect();
    Ok((offers, found.total > ITEM_HITS))
}

/// Answers `query`, or `None` when the graph has nothing to say (an item no
/// offer names, a fact not imported): the FAQ gets the question then.
pub(crate) async fn answer(
    engine: &Engine,
    query: &GraphQuery,
    lang: &str,
    known: &Facts,
) -> Result<Option<GraphAnswer>, EngineError> {
    let zh = lang == "zh";
    match query {
        GraphQuery::Offer { id, attribute } => {
            let offer = match engine.store.get_offer(*id).await {
                Ok(o) => o,
                Err(StoreError::NotFound { .. }) => {
                    let text = if zh {
                        format!("没有编号为 {id} 的报价。")
                    } else {
                        format!("There is no offer {id}.")
                    };
                    let facts = serde_json::json!({ "offer": id, "exists": false });
                    return Ok(Some(GraphAnswer { text, query: format!("offer id={id}"), facts }));
                }
                Err(e) => return Err(e.into()),
            };
            let (text, facts) = offer_answer(&offer, *attribute, lang);
            Ok(Some(GraphAnswer {
                text,
                query: format!("offer id={id} attribute={attribute:?}").to_lowercase(),
                facts,
            }))
        }
        GraphQuery::Fact { subject, relation } => {
            let found = facts(known, subject, relation);
            if found.is_empty() {
                return Ok(None);
            }
            let objects: Vec<&str> = found.iter().take(MAX_OBJECTS).map(|t| t.object.as_str()).collect();
            let (s, r) = (&found[0].subject, &found[0].relation);
            let text = if zh {
                format!("{s}的{r}是{}。", objects.join("、"))
            } else {
                format!("The {r} of {s}: {}.", objects.join(", "))
            };
            Ok(Some(GraphAnswer {
                text,
                query: format!("triple subject={s} relation={r}"),
                facts: serde_json::json!({ "subject": s, "relation": r, "objects": objects }),
            }))
        }
        GraphQuery::Count { what, city } | GraphQuery::Prices { what, city } => {
            // The index as of this question (concurrent questions share one catch-up).
            let target = engine.store.last_event_id().await?;
            crate::indexer::catch_up_to(engine.store.as_ref(), &engine.search, target).await?;
            let r = request(what, *city);
            let items = match what {
                Subject::Item(item) => {
                    let (named, capped) = item_offers(engine, &r, item).await?;
                    // An item no offer names in any state is not a market question.
                    if named.is_empty() {
                        return Ok(None);
                    }
                    let available = |o: &Offer| o.status == OfferStatus::Available;
                    let in_city = |o: &Offer| {
                        city.is_none_or(|c| {
                            o.location
                                .is_some_and(|p| p.distance_km(&GeoPoint { lat: c.lat, lon: c.lon }) <= CITY_RADIUS_KM)
                        })
                    };
                    Some((named.into_iter().filter(|o| available(o) && in_city(o)).collect::<Vec<_>>(), capped))
                }
                _ => None,
            };
            let name = subject_name(what, lang);
            let place_zh = city.map_or(String::new(), |c| c.zh.to_string());
            let place_en = city.map_or(String::new(), |c| format!(" in {}", gazetteer::name(c, lang)));
            let capped = items.as_ref().is_some_and(|(_, capped)| *capped);
            let note = match (capped, zh) {
                (false, _) => String::new(),
                (true, true) => format!("（按最相关的 {ITEM_HITS} 个报价计算）"),
                (true, false) => format!(" (from the {ITEM_HITS} most relevant offers)"),
            };
            if matches!(query, GraphQuery::Count { .. }) {
                let n = match &items {
                    Some((offers, _)) => offers.len(),
                    None => engine.search(&r).await?.total,
                };
                let text = if zh {
                    format!("{place_zh}目前有 {n} 个可用的{name}报价{note}。")
                } else if name.is_empty() {
                    format!("There are {n} available offers{place_en} right now{note}.")
                } else {
                    format!("There are {n} available {name} offers{place_en} right now{note}.")
                };
                return Ok(Some(GraphAnswer {
                    text,
                    query: describe("count", &r, *city),
                    facts: serde_json::json!({ "count": n }),
                }));
            }
            let sample = match items {
                Some((offers, _)) => {
                    let mut kept: Vec<i64> = offers.iter().map(|o| o.price).collect();
                    kept.sort_unstable();
                    wantloop_search::PriceSample {
                        count: kept.len(),
                        min: kept.first().copied(),
                        max: kept.last().copied(),
                        kept,
                    }
                }
                None => {
                    let index = engine.search.clone();
                    let request = r.clone();
                    tokio::task::spawn_blocking(move || index.prices(&request))
                        .await
                        .map_err(|e| EngineError::Task(e.to_string()))??
                }
            };
            let query = describe("prices of", &r, *city);
            let (Some(min), Some(max)) = (sample.min, sample.max) else {
                let text = if zh {
                    format!("{place_zh}目前没有可用的{name}报价，没有价格可以参考。")
                } else {
                    format!("There are no available {name} offers{place_en} right now, so there is no price to go by.")
                };
                return Ok(Some(GraphAnswer { text, query, facts: serde_json::json!({ "count": 0 }) }));
            };
            // The lower median: a price some offer asks.
            let median = sample.kept.get(sample.kept.len().saturating_sub(1) / 2).copied().unwrap_or(min);
            let n = sample.count;
            let text = if zh {
                format!(
                    "{place_zh}目前 {n} 个可用的{name}报价{note}，价格从 {} 元到 {} 元，中位数 {} 元。",
                    yuan(min),
                    yuan(max),
                    yuan(median)
                )
            } else {
                format!(
                    "{n} available {name} offers{place_en}{note}: from ¥{} to ¥{}, median ¥{}.",
                    yuan(min),
                    yuan(max),
                    yuan(median)
                )
            };
            Ok(Some(GraphAnswer {
                text,
                query,
                facts: serde_json::json!({ "count": n, "min": min, "median": median, "max": max, "unit": "fen" }),
            }))
        }
    }
}
