//! Keyword rules that assign a category to a demand posted without one. A
//! stop-gap the trained classifier replaces; it stays as the fallback when no
//! model is active. Keywords are matched against the analysed tokens and, for
//! Chinese, also as substrings, since segmentation may split a keyword.

use wantloop_text::{normalise, token_set};

/// Categories the rules know, with their bilingual keywords.
pub const RULES: &[(&str, &[&str])] = &[
    ("bicycles", &["自行车", "单车", "山地车", "公路车", "折叠车", "bike", "bicycle", "cycling", "ebike"]),
    (
        "electronics",
        &[
            "手机",
            "电脑",
            "笔记本",
            "平板",
            "耳机",
            "相机",
            "显示器",
            "phone",
            "iphone",
            "laptop",
            "tablet",
            "camera",
            "headphones",
            "monitor",
            "ipad",
        ],
    ),
    (
        "furniture",
        &[
            "沙发",
            "桌子",
            "书桌",
            "椅子",
            "床",
            "衣柜",
            "书架",
            "sofa",
            "desk",
            "chair",
            "table",
            "bed",
            "wardrobe",
            "bookshelf",
            "couch",
        ],
    ),
    ("books", &["书", "教材", "小说", "绘本", "词典", "book", "books", "textbook", "novel", "dictionary"]),
    (
        "clothing",
        &["衣服", "外套", "羽绒服", "鞋", "裙子", "毛衣", "jacket", "coat", "shoes", "dress", "sweater", "boots"],
    ),
    (
        "tutoring",
        &[
            "家教",
            "辅导",
            "补习",
            "数学",
            "英语",
            "钢琴课",
            "tutor",
            "tutoring",
            "lesson",
            "lessons",
            "maths",
            "math",
            "homework",
        ],
    ),
    (
        "home_services",
        &[
            "保洁",
            "搬家",
            "维修",
            "水管",
            "家政",
            "清洗",
            "cleaning",
            "cleaner",
            "moving",
            "repair",
            "plumber",
            "electrician",
        ],
    ),
    ("tools", &["电钻", "工具", "梯子", "扳手", "锯", "drill", "ladder", "tools", "saw", "wrench", "toolbox"]),
    (
        "baby",
        &["婴儿", "童车", "婴儿车", "奶粉", "尿不湿", "玩具", "stroller", "crib", "baby", "toddler", "toys", "pram"],
    ),
    (
        "sports",
        &[
            "健身",
            "哑铃",
            "球拍",
            "瑜伽",
            "帐篷",
            "跑步机",
            "dumbbell",
            "dumbbells",
            "racket",
            "yoga",
            "tent",
            "treadmill",
            "football",
        ],
    ),
];

/// The category for texts no rule recognises.
pub const FALLBACK: &str = "other";

/// The best category for a text and a confidence in [0, 1]: the winning rule's
/// share of all keyword hits, damped when there are few hits.
pub fn classify(text: &str) -> (String, f64) {
    let tokens = token_set(text);
    let norm = normalise(text);
    let mut best: Option<(&str, usize)> = None;
    let mut total = 0usize;
    for (category, keywords) in RULES {
        let hits = keywords.iter().filter(|k| tokens.contains(**k) || (!k.is_ascii() && norm.contains(**k))).count();
        total += hits;
        if hits > best.map_or(0, |b| b.1) {
            best = Some((category, hits));
        }
    }
    match best {
        Some((category, hits)) => {
            let share = hits as f64 / total as f64;
            let support = 1.0 - 0.5f64.powi(hits as i32);
            (category.to_string(), share * (0.5 + 0.5 * support))
        }
        None => (FALLBACK.to_string(), 0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_chinese_and_english() {
        assert_eq!(classify("想买一台二手自行车，预算300元").0, "bicycles");
        assert_eq!(classify("need a maths tutor on weekends").0, "tutoring");
        assert_eq!(classify("求一张宜家书桌").0, "furniture");
        assert_eq!(classify("Looking for a baby stroller").0, "baby");
    }

    #[test]
    fn unknown_text_falls_back_with_zero_confidence() {
        assert_eq!(classify("something entirely unrelated"), (FALLBACK.to_string(), 0.0));
    }

    #[test]
    fn ambiguous_text_is_less_confident() {
        let (_, clear) = classify("自行车 单车 bike");
        let (_, mixed) = classify("bike and a desk");
        assert!(clear > mixed, "{clear} {mixed}");
    }
}
