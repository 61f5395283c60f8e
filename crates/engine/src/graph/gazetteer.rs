//! Cities the assistant knows by name, in both languages, with their centres:
//! offers carry coordinates, not city names, so "in Hangzhou" means within
//! [`CITY_RADIUS_KM`] of Hangzhou's centre. The demo's six cities and the
//! other large ones of China.

pub struct City {
    pub zh: &'static str,
    pub en: &'static str,
    pub lat: f64,
    pub lon: f64,
}

/// Reach of a city: its built-up area, short of the next city's.
pub const CITY_RADIUS_KM: f64 = 50.0;

pub const CITIES: &[City] = &[
    City { zh: "杭州", en: "hangzhou", lat: 30.2741, lon: 120.1551 },
    City { zh: "上海", en: "shanghai", lat: 31.2304, lon: 121.4737 },
    City { zh: "北京", en: "beijing", lat: 39.9042, lon: 116.4074 },
    City { zh: "深圳", en: "shenzhen", lat: 22.5431, lon: 114.0579 },
    City { zh: "成都", en: "chengdu", lat: 30.5728, lon: 104.0668 },
    City { zh: "南京", en: "nanjing", lat: 32.0603, lon: 118.7969 },
    City { zh: "广州", en: "guangzhou", lat: 23.1291, lon: 113.2644 },
    City { zh: "武汉", en: "wuhan", lat: 30.5928, lon: 114.3055 },
    City { zh: "西安", en: "xi'an", lat: 34.3416, lon: 108.9398 },
    City { zh: "重庆", en: "chongqing", lat: 29.5630, lon: 106.5516 },
    City { zh: "天津", en: "tianjin", lat: 39.3434, lon: 117.3616 },
    City { zh: "苏州", en: "suzhou", lat: 31.2990, lon: 120.5853 },
];

/// The city a normalised text names, if any.
pub fn mentioned(text: &str) -> Option<&'static City> {
    CITIES.iter().find(|c| text.contains(c.zh) || contains_word(text, c.en))
}

/// Whether `word` occurs in `text` not inside a longer word.
pub fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let after = text[i + word.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric());
        before && after
    })
}

/// The name of `city` in `lang`.
pub fn name(city: &City, lang: &str) -> String {
    if lang == "zh" {
        city.zh.to_string()
    } else {
        let mut s = city.en.to_string();
        if let Some(first) = s.get(..1) {
            s.replace_range(..1, &first.to_uppercase());
        }
        s
    }
}
