//! Names of the market's categories in both languages, for questions about
//! a whole category ("杭州有多少辆自行车？"). A name not here is searched as
//! the item's own words instead ("婴儿床一般多少钱？" asks about cribs, not
//! every baby item).

pub struct CategoryNames {
    pub slug: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    /// Other names that mean the whole category.
    pub aliases: &'static [&'static str],
}

pub const CATEGORIES: &[CategoryNames] = &[
    CategoryNames {
        slug: "bicycles",
        zh: "自行车",
        en: "bicycles",
        aliases: &["单车", "脚踏车", "bicycle", "bike", "bikes"],
    },
    CategoryNames {
        slug: "electronics",
        zh: "电子产品",
        en: "electronics",
        aliases: &["数码产品", "电子设备", "electronic", "gadgets"],
    },
    CategoryNames { slug: "furniture", zh: "家具", en: "furniture", aliases: &["家私"] },
    CategoryNames { slug: "books", zh: "书", en: "books", aliases: &["书籍", "图书", "book"] },
    CategoryNames { slug: "clothing", zh: "衣服", en: "clothing", aliases: &["服装", "衣物", "clothes"] },
    CategoryNames {
        slug: "tutoring", zh: "家教", en: "tutoring", aliases: &["辅导", "tutors", "tutor", "lessons"]
    },
    CategoryNames {
        slug: "home_services",
        zh: "家政服务",
        en: "home services",
        aliases: &["家政", "上门服务", "home service", "household services"],
    },
    CategoryNames { slug: "tools", zh: "工具", en: "tools", aliases: &["tool"] },
    CategoryNames {
        slug: "baby",
        zh: "母婴用品",
        en: "baby items",
        aliases: &["婴儿用品", "宝宝用品", "baby products", "baby gear", "baby"],
    },
    CategoryNames {
        slug: "sports",
        zh: "运动器材",
        en: "sports equipment",
        aliases: &["体育用品", "运动用品", "sports gear", "sports"],
    },
];

/// The category a whole phrase names (a slug or any of its names).
pub fn category(phrase: &str) -> Option<&'static CategoryNames> {
    let p = phrase.trim();
    CATEGORIES.iter().find(|c| c.slug == p || c.zh == p || c.en == p || c.aliases.contains(&p))
}

pub fn by_slug(slug: &str) -> Option<&'static CategoryNames> {
    CATEGORIES.iter().find(|c| c.slug == slug)
}
