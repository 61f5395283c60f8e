//! Question patterns of the knowledge graph, each mapped to one graph query:
//! counts ("杭州有多少辆可用的二手自行车？", "how many bikes are available in
//! Shanghai?"), price ranges per category or item and city ("婴儿床一般多少
//! 钱？"), an offer's attributes ("who provides offer 812?", "812号商品的价格
//! 是多少"), and imported facts ("X 的 Y 是什么", "what is the Y of X").
//! A question no pattern fits goes to the FAQ.

use std::sync::OnceLock;

use regex::Regex;

use super::gazetteer::{self, City};
use super::lexicon::{self, CategoryNames};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferAttribute {
    Provider,
    Price,
    Category,
    Status,
    Available,
    Condition,
    City,
}

/// What a count or price question is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    Category(&'static CategoryNames),
    /// An item's own words, searched as a phrase.
    Item(String),
    /// Every offer.
    All,
}

#[derive(Debug, Clone, PartialEq)]
pub enum GraphQuery {
    Count {
        what: Subject,
        city: Option<&'static City>,
    },
    Prices {
        what: Subject,
        city: Option<&'static City>,
    },
    Offer {
        id: i64,
        attribute: OfferAttribute,
    },
    /// `subject —relation→ ?` among the imported triples, as the question words them.
    Fact {
        subject: String,
        relation: String,
    },
}

impl std::fmt::Debug for City {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.en)
    }
}

impl PartialEq for City {
    fn eq(&self, other: &Self) -> bool {
        self.en == other.en
    }
}

impl std::fmt::Debug for CategoryNames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.slug)
    }
}

impl PartialEq for CategoryNames {
    fn eq(&self, other: &Self) -> bool {
        self.slug == other.slug
    }
}

const ATTRIBUTES: &[(OfferAttribute, &[&str])] = &[
    (
        OfferAttribute::Provider,
        &[
            "提供者",
            "供应者",
            "卖家",
            "发布者",
            "谁提供",
            "谁发布",
            "谁卖",
            "谁的",
            "provider",
            "seller",
            "who provides",
            "who offers",
            "who sells",
            "who posted",
            "who listed",
            "whose",
        ],
    ),
    (
        OfferAttribute::Available,
        &[
            "库存",
            "还剩",
            "剩多少",
            "剩几",
            "可用数量",
            "数量",
            "几件",
            "how many left",
            "units left",
            "capacity",
            "quantity",
            "in stock",
        ],
    ),
    (OfferAttribute::Price, &["价格", "多少钱", "价钱", "售价", "price", "cost", "how much"]),
    (OfferAttribute::Category, &["类别", "品类", "分类", "类目", "category"]),
    (OfferAttribute::Status, &["状态", "status"]),
    (OfferAttribute::Condition, &["成色", "新旧", "几成新", "condition"]),
    (OfferAttribute::City, &["城市", "在哪", "哪里", "位置", "where", "city", "location"]),
];

const PRICE_CUES: &[&str] = &["多少钱", "价格", "价钱", "价位", "什么价", "how much", "price", "prices", "cost"];
const COUNT_CUES: &[&str] = &["多少", "几个", "几辆", "几台", "几件", "几家", "几位", "how many", "number of"];
/// Words of a count or price question that are not the item asked about.
const FILLER_ZH: &[&str] = &[
    "请问",
    "一般",
    "大概",
    "大约",
    "通常",
    "平均",
    "现在",
    "目前",
    "一共",
    "总共",
    "可用的",
    "可用",
    "可买的",
    "在售的",
    "在售",
    "二手的",
    "二手",
    "左右",
    "报价",
    "供给",
    "商品",
    "物品",
    "东西",
    "有",
    "的",
    "是",
    "要",
    "吗",
    "呢",
    "啊",
    "offer",
    "offers",
];
const FILLER_EN: &[&str] = &[
    "how",
    "many",
    "much",
    "does",
    "do",
    "is",
    "are",
    "there",
    "a",
    "an",
    "the",
    "in",
    "at",
    "around",
    "near",
    "available",
    "second-hand",
    "secondhand",
    "used",
    "usually",
    "typically",
    "normally",
    "on",
    "average",
    "cost",
    "costs",
    "price",
    "prices",
    "priced",
    "of",
    "what",
    "whats",
    "s",
    "for",
    "currently",
    "now",
    "listed",
    "offers",
    "offer",
    "number",
    "go",
    "sell",
    "sold",
    "typical",
    "range",
    "right",
    "today",
    "any",
    "me",
    "tell",
    "can",
    "you",
    "i",
    "get",
    "buy",
    "find",
    "see",
    "rent",
    "have",
    "has",
    "got",
    "listing",
    "listings",
    "total",
    "altogether",
    "we",
    "they",
];
const MAX_ITEM_CHARS: usize = 24;

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("a valid pattern"))
}

fn offer_id(text: &str) -> Option<i64> {
    static BEFORE: OnceLock<Regex> = OnceLock::new();
    static AFTER: OnceLock<Regex> = OnceLock::new();
    let before = re(&BEFORE, r"(?:offer|报价|商品|供给|物品|listing)\s*(?:#|no\.?|号)?\s*(\d{1,12})");
    let after = re(&AFTER, r"(?:#|第)?(\d{1,12})\s*号\s*(?:offer|报价|商品|供给|物品)?|#(\d{1,12})");
    let caps = before.captures(text).or_else(|| after.captures(text))?;
    caps.iter().skip(1).flatten().next()?.as_str().parse().ok()
}

fn any_of(text: &str, words: &[&str]) -> bool {
    words.iter().any(|w| if w.is_ascii() { gazetteer::contains_word(text, w) } else { text.contains(w) })
}

/// What remains of a count or price question once the city, cues and filler are gone.
fn item(text: &str, city: Option<&City>) -> String {
    static COUNTED: OnceLock<Regex> = OnceLock::new();
    let mut t = text.to_string();
    if let Some(c) = city {
        t = t.replace(c.zh, " ").replace(c.en, " ");
    }
    // A measure word goes with its number word only: 家 of 几家 is not the 家 of 家具.
    let counted = re(&COUNTED, "(?:多少钱|多少|几)(?:个|辆|台|件|份|套|张|家|位|本|部|只|把|款|种)?");
    t = counted.replace_all(&t, " ").into_owned();
    for cue in PRICE_CUES.iter().chain(COUNT_CUES) {
        t = t.replace(cue, " ");
    }
    let mut zh_free = t;
    for f in FILLER_ZH.iter().filter(|f| !f.is_ascii()) {
        zh_free = zh_free.replace(f, " ");
    }
    let words: Vec<String> = zh_free
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '\''))
        .filter(|w| !w.is_empty())
        .filter(|w| !FILLER_EN.contains(w) && !FILLER_ZH.contains(w))
        .map(|w| w.trim_matches('\'').to_string())
        .collect();
    words.join(" ")
}

fn subject(phrase: String) -> Option<Subject> {
    if phrase.is_empty() {
        return Some(Subject::All);
    }
    if let Some(c) = lexicon::category(&phrase) {
        return Some(Subject::Category(c));
    }
    // A plural English item: "strollers" → "stroller".
    let singular = phrase.strip_suffix('s').filter(|p| p.is_ascii() && p.len() > 2);
    if let Some(c) = singular.and_then(lexicon::category) {
        return Some(Subject::Category(c));
    }
    (phrase.chars().count() <= MAX_ITEM_CHARS).then(|| Subject::Item(singular.unwrap_or(&phrase).to_string()))
}

/// `X 的 Y 是什么` / `what is the Y of X`: (X, Y).
fn fact(text: &str) -> Option<(String, String)> {
    static ZH: OnceLock<Regex> = OnceLock::new();
    static EN: OnceLock<Regex> = OnceLock::new();
    let zh = re(&ZH, r"^(.+?)的(.+?)是(?:什么|谁|多少|哪里|哪儿|哪个|几)");
    let en = re(&EN, r"^(?:what|who|where)(?:'s| is| are) (?:the )?(.+?) of (.+?)$");
    let t = text.trim_end_matches(['?', '？', '。', '.', '!', '！']).trim();
    if let Some(c) = zh.captures(t) {
        return Some((c[1].trim().to_string(), c[2].trim().to_string()));
    }
    en.captures(t).map(|c| (c[2].trim().to_string(), c[1].trim().to_string()))
}

/// The graph query a normalised question asks, if any; `is_subject` says
/// whether the imported triples know a subject.
pub fn parse(text: &str, is_subject: &dyn Fn(&str) -> bool) -> Option<GraphQuery> {
    if let Some(id) = offer_id(text)
        && let Some(attribute) = ATTRIBUTES.iter().find(|(_, words)| any_of(text, words)).map(|(a, _)| *a)
    {
        return Some(GraphQuery::Offer { id, attribute });
    }
    if let Some((subject, relation)) = fact(text)
        && is_subject(&subject)
    {
        return Some(GraphQuery::Fact { subject, relation });
    }
    let city = gazetteer::mentioned(text);
    if any_of(text, PRICE_CUES) {
        return Some(GraphQuery::Prices { what: subject(item(text, city))?, city });
    }
    if any_of(text, COUNT_CUES) {
        return Some(GraphQuery::Count { what: subject(item(text, city))?, city });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(q: &str) -> Option<GraphQuery> {
        parse(&wantloop_text::normalise(q), &|s| s == "wantloop")
    }

    fn city(en: &str) -> Option<&'static City> {
        gazetteer::CITIES.iter().find(|c| c.en == en)
    }

    #[test]
    fn counts_prices_offers_and_facts() {
        let bikes = Subject::Category(lexicon::category("自行车").unwrap());
        assert_eq!(
            p("杭州有多少辆可用的二手自行车？"),
            Some(GraphQuery::Count { what: bikes.clone(), city: city("hangzhou") })
        );
        assert_eq!(
            p("How many bikes are available in Shanghai?"),
            Some(GraphQuery::Count { what: bikes, city: city("shanghai") })
        );
        assert_eq!(
            p("婴儿床一般多少钱？"),
            Some(GraphQuery::Prices { what: Subject::Item("婴儿床".into()), city: None })
        );
        assert_eq!(
            p("How much does a stroller cost in Beijing?"),
            Some(GraphQuery::Prices { what: Subject::Item("stroller".into()), city: city("beijing") })
        );
        assert_eq!(
            p("who provides offer 812?"),
            Some(GraphQuery::Offer { id: 812, attribute: OfferAttribute::Provider })
        );
        assert_eq!(p("812号商品的价格是多少"), Some(GraphQuery::Offer { id: 812, attribute: OfferAttribute::Price }));
        assert_eq!(
            p("wantloop 的 许可证 是什么？"),
            Some(GraphQuery::Fact { subject: "wantloop".into(), relation: "许可证".into() })
        );
        assert_eq!(
            p("What is the license of wantloop?"),
            Some(GraphQuery::Fact { subject: "wantloop".into(), relation: "license".into() })
        );
        assert_eq!(p("深圳有多少个可用的报价"), Some(GraphQuery::Count { what: Subject::All, city: city("shenzhen") }));
        let services = Subject::Category(lexicon::category("家政服务").unwrap());
        assert_eq!(p("北京有几家家政服务？"), Some(GraphQuery::Count { what: services, city: city("beijing") }));
        assert_eq!(
            p("冬季外套多少钱"),
            Some(GraphQuery::Prices { what: Subject::Item("冬季外套".into()), city: None })
        );
    }

    #[test]
    fn faq_questions_fit_no_pattern() {
        for q in ["怎么发布需求？", "提议的匹配多久失效？", "what happens if I reject a match?", "offer 12"]
        {
            assert_eq!(p(q), None, "{q}");
        }
    }
}
