//! The demo marketplace generator: a seeded, bilingual (Chinese and English)
//! set of offers and demands across ten categories in six cities, with prices,
//! budgets, locations, capacities and priorities drawn to look like a real
//! second-hand and local-services market. Deterministic for a given seed.

use rand::prelude::*;
use rand::rngs::StdRng;

use wantloop_engine::graph::gazetteer::{self, CITIES, City};

use crate::records::{DemandRecord, OfferRecord};

/// The demo's six cities: the first six of the assistant's gazetteer, so
/// that the market's places and the cities questions name are the same.
const DEMO_CITIES: usize = 6;

/// One category: its items in both languages, a price range in yuan, and
/// whether it is a service (many units, no condition).
struct Category {
    slug: &'static str,
    items: &'static [(&'static str, &'static str)],
    price_yuan: (i64, i64),
    service: bool,
}

const CATEGORIES: &[Category] = &[
    Category {
        slug: "bicycles",
        items: &[
            ("山地自行车", "mountain bike"),
            ("公路自行车", "road bike"),
            ("折叠自行车", "folding bike"),
            ("儿童自行车", "kids bike"),
            ("电动自行车", "electric bike"),
        ],
        price_yuan: (150, 2500),
        service: false,
    },
    Category {
        slug: "electronics",
        items: &[
            ("笔记本电脑", "laptop"),
            ("手机", "phone"),
            ("平板电脑", "tablet"),
            ("降噪耳机", "noise-cancelling headphones"),
            ("显示器", "monitor"),
            ("单反相机", "camera"),
        ],
        price_yuan: (200, 6000),
        service: false,
    },
    Category {
        slug: "furniture",
        items: &[
            ("书桌", "desk"),
            ("沙发", "sofa"),
            ("办公椅", "office chair"),
            ("书架", "bookshelf"),
            ("餐桌", "dining table"),
            ("衣柜", "wardrobe"),
        ],
        price_yuan: (80, 3000),
        service: false,
    },
    Category {
        slug: "books",
        items: &[
            ("考研教材", "exam textbook"),
            ("英语词典", "English dictionary"),
            ("儿童绘本", "picture books"),
            ("科幻小说", "science fiction novel"),
            ("编程书籍", "programming book"),
        ],
        price_yuan: (10, 200),
        service: false,
    },
    Category {
        slug: "clothing",
        items: &[
            ("羽绒服", "down jacket"),
            ("运动鞋", "running shoes"),
            ("毛衣", "wool sweater"),
            ("冬季外套", "winter coat"),
            ("连衣裙", "dress"),
        ],
        price_yuan: (30, 800),
        service: false,
    },
    Category {
        slug: "tutoring",
        items: &[
            ("数学家教", "maths tutor"),
            ("英语辅导", "English tutoring"),
            ("钢琴课", "piano lessons"),
            ("物理补习", "physics tutoring"),
            ("编程辅导", "coding lessons"),
        ],
        price_yuan: (80, 400),
        service: true,
    },
    Category {
        slug: "home_services",
        items: &[
            ("家庭保洁", "home cleaning"),
            ("搬家服务", "moving help"),
            ("水管维修", "plumber"),
            ("家电维修", "appliance repair"),
            ("空调清洗", "air-conditioner cleaning"),
        ],
        price_yuan: (100, 800),
        service: true,
    },
    Category {
        slug: "tools",
        items: &[
            ("电钻", "power drill"),
            ("梯子", "ladder"),
            ("工具箱", "toolbox"),
            ("电锯", "electric saw"),
            ("高压清洗机", "pressure washer"),
        ],
        price_yuan: (20, 900),
        service: false,
    },
    Category {
        slug: "baby",
        items: &[
            ("婴儿车", "baby stroller"),
            ("婴儿床", "crib"),
            ("儿童安全座椅", "child car seat"),
            ("积木玩具", "building block toys"),
            ("学步车", "baby walker"),
        ],
        price_yuan: (50, 1500),
        service: false,
    },
    Category {
        slug: "sports",
        items: &[
            ("哑铃", "dumbbells"),
            ("瑜伽垫", "yoga mat"),
            ("羽毛球拍", "badminton racket"),
            ("露营帐篷", "camping tent"),
            ("跑步机", "treadmill"),
        ],
        price_yuan: (30, 3000),
        service: false,
    },
];

const CONDITIONS: &[(&str, &str, &str)] = &[
    ("new", "全新", "brand new"),
    ("like_new", "九成新", "like new"),
    ("good", "八成新", "in good condition"),
    ("fair", "七成新", "well used"),
];

/// Some people both offer and ask, so the own-offer rule has work to do.
const SHARED_PEOPLE: usize = 80;

pub struct DemoData {
    pub offers: Vec<OfferRecord>,
    pub demands: Vec<DemandRecord>,
}

fn near(rng: &mut StdRng, c: &City, km: f64) -> (f64, f64) {
    // Uniform in a disc of radius `km` around the centre (1° latitude ≈ 111 km).
    let r = km * rng.random::<f64>().sqrt();
    let theta = rng.random::<f64>() * std::f64::consts::TAU;
    let dlat = r * theta.sin() / 111.0;
    let dlon = r * theta.cos() / (111.0 * c.lat.to_radians().cos());
    (((c.lat + dlat) * 1e4).round() / 1e4, ((c.lon + dlon) * 1e4).round() / 1e4)
}

/// City weights: bigger markets get more posts.
fn pick_city(rng: &mut StdRng) -> &'static City {
    let w: [u32; DEMO_CITIES] = [30, 25, 20, 12, 8, 5];
    let mut x = rng.random_range(0..w.iter().sum::<u32>());
    for (i, wi) in w.iter().enumerate() {
        if x < *wi {
            return &CITIES[i];
        }
        x -= wi;
    }
    &CITIES[0]
}

pub fn generate(offers: usize, demands: usize, seed: u64) -> DemoData {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = DemoData { offers: Vec::with_capacity(offers), demands: Vec::with_capacity(demands) };
    for i in 0..offers {
        let cat = &CATEGORIES[rng.random_range(0..CATEGORIES.len())];
        let (zh, en) = cat.items[rng.random_range(0..cat.items.len())];
        let city = pick_city(&mut rng);
        let (lat, lon) = near(&mut rng, city, 15.0);
        let yuan = rng.random_range(cat.price_yuan.0..=cat.price_yuan.1);
        let chinese = rng.random_bool(0.6);
        let (condition, text) = if cat.service {
            let text = if chinese {
                format!("{}提供{}，经验丰富，周末可约，每次{}元", city.zh, zh, yuan)
            } else {
                format!(
                    "Experienced {en} in {}, weekends available, {yuan} yuan per session",
                    gazetteer::name(city, "en")
                )
            };
            (None, text)
        } else {
            let (slug, czh, cen) = CONDITIONS[rng.random_range(0..CONDITIONS.len())];
            let text = if chinese {
                format!("出{}{}，{}自提，价格{}元", czh, zh, city.zh, yuan)
            } else {
                format!("Selling a {en}, {cen}, pick up in {}, {yuan} yuan", gazetteer::name(city, "en"))
            };
            (Some(slug.to_string()), text)
        };
        let capacity = if cat.service {
            rng.random_range(2..=10)
        } else if rng.random_bool(0.8) {
            1
        } else {
            rng.random_range(2..=4)
        };
        let provider = if i % 5 == 0 { format!("person{}", i % SHARED_PEOPLE) } else { format!("provider{i}") };
        out.offers.push(OfferRecord {
            provider,
            text,
            category: cat.slug.to_string(),
            price: yuan * 100,
            lat: Some(lat),
            lon: Some(lon),
            capacity: Some(capacity),
            condition,
        });
    }
    for i in 0..demands {
        let cat = &CATEGORIES[rng.random_range(0..CATEGORIES.len())];
        let (zh, en) = cat.items[rng.random_range(0..cat.items.len())];
        let city = pick_city(&mut rng);
        let (lat, lon) = near(&mut rng, city, 12.0);
        // Budgets straddle the price range so that some demands cannot be met.
        let (lo, hi) = cat.price_yuan;
        let budget = rng.random_range(lo..=hi + (hi - lo) / 3);
        let chinese = rng.random_bool(0.6);
        let text = match (chinese, rng.random_range(0..3)) {
            (true, 0) => format!("想买一个二手{zh}，预算{budget}元，在{}", city.zh),
            (true, 1) => format!("求{zh}，{}附近，{budget}元以内", city.zh),
            (true, _) => format!("急需{zh}，最好{}能自提，预算{budget}元", city.zh),
            (false, 0) => format!("Looking for a {en} in {}, budget {budget} yuan", gazetteer::name(city, "en")),
            (false, 1) => format!("Need a {en} near {}, up to {budget} yuan", gazetteer::name(city, "en")),
            (false, _) => format!("Want a second-hand {en}, {} area, max {budget} yuan", gazetteer::name(city, "en")),
        };
        let priority = ["low", "normal", "normal", "normal", "high", "urgent"][rng.random_range(0..6)];
        let requester = if i % 7 == 0 { format!("person{}", i % SHARED_PEOPLE) } else { format!("user{i}") };
        out.demands.push(DemandRecord {
            requester,
            text,
            // A fifth arrive without a category and are classified at intake.
            category: (!rng.random_bool(0.2)).then(|| cat.slug.to_string()),
            priority: Some(priority.to_string()),
            budget: Some(budget * 100),
            lat: Some(lat),
            lon: Some(lon),
            max_distance_km: Some([5.0, 10.0, 20.0, 30.0][rng.random_range(0..4)]),
            quantity: Some(if cat.service {
                rng.random_range(1..=2)
            } else if rng.random_bool(0.9) {
                1
            } else {
                2
            }),
            expires_in_hours: rng.random_bool(0.3).then(|| f64::from(rng.random_range(24..=720))),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_valid_bilingual_data_deterministically() {
        let a = generate(300, 600, 7);
        let b = generate(300, 600, 7);
        assert_eq!(a.offers.len(), 300);
        assert_eq!(a.demands[17].text, b.demands[17].text);
        let mut categories = std::collections::BTreeSet::new();
        let mut chinese = 0;
        for o in &a.offers {
            o.to_input().unwrap().parse().unwrap();
            categories.insert(o.category.clone());
        }
        for d in &a.demands {
            d.to_input().unwrap().parse().unwrap();
            chinese += usize::from(d.text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)));
        }
        assert!(categories.len() >= 8, "{categories:?}");
        assert!(chinese > 200 && chinese < 500, "{chinese}");
        assert!(a.demands.iter().any(|d| d.category.is_none()));
    }
}
