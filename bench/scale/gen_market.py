#!/usr/bin/env python3
"""Generates a market of N offers and N demands as wantloop import files.

Texts are real Chinese product reviews from
$WANTLOOP_DATA/online-shopping-10-cats (categories from its labels) when the
file is present, generated bilingual texts otherwise. Offers get a price and a
capacity, demands a budget, a location and a search radius, all seeded, so two
runs with one seed write the same files.

usage: gen_market.py SIZE OUT_DIR [--seed S]
"""

import argparse
import csv
import gzip
import os
import random

# The data set's categories, in the ASCII form wantloop's categories take.
CATEGORIES = {
    "书籍": "books", "平板": "tablets", "手机": "phones", "水果": "fruit", "洗发水": "shampoo",
    "热水器": "water-heaters", "蒙牛": "dairy", "衣服": "clothes", "计算机": "computers", "酒店": "hotels",
}
PRICE = {  # typical price in yuan per category: offers scatter around it
    "books": 40, "tablets": 1800, "phones": 2500, "fruit": 60, "shampoo": 50,
    "water-heaters": 1200, "dairy": 30, "clothes": 200, "computers": 4500, "hotels": 400,
}
CITIES = [  # (lat, lon): Beijing, Shanghai, Guangzhou, Shenzhen, Hangzhou, Chengdu
    (39.90, 116.40), (31.23, 121.47), (23.13, 113.26), (22.54, 114.06), (30.27, 120.16), (30.66, 104.06),
]
GENERATED_WORDS = {
    c: [f"{c}", f"{c}-item", "good", "new", "used", "cheap", "quality", "fast", "二手", "全新", "便宜", "质量好"]
    for c in PRICE
}


def real_texts(data_dir):
    path = os.path.join(data_dir, "online-shopping-10-cats", "online_shopping_10_cats.csv.gz")
    if not os.path.exists(path):
        return None
    by_cat = {}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            text = row["review"].replace("\ufeff", "").strip()
            if text:
                by_cat.setdefault(CATEGORIES[row["cat"]], []).append(text)
    return by_cat


def snippet(rng, texts, cat, max_chars):
    if texts is None:
        words = GENERATED_WORDS[cat]
        return " ".join(rng.choice(words) for _ in range(rng.randint(3, 8)))
    while True:
        t = rng.choice(texts[cat])
        start = rng.randrange(max(1, len(t) - max_chars)) if len(t) > max_chars else 0
        # A cut that is only blanks would be a row wantloop rightly rejects.
        if t[start:start + max_chars].strip():
            return t[start:start + max_chars]


def near(rng, km):
    lat, lon = rng.choice(CITIES)
    return round(lat + rng.gauss(0, km / 111.0), 5), round(lon + rng.gauss(0, km / 111.0), 5)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("size", type=int)
    p.add_argument("out")
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args()
    rng = random.Random(a.seed)
    texts = real_texts(os.environ.get("WANTLOOP_DATA", "../shared/data"))
    cats = list(PRICE)
    # Category shares follow the data set when it is present (hotels and
    # tablets are common, water heaters rare), uniform otherwise.
    weights = [len(texts[c]) for c in cats] if texts else [1] * len(cats)
    os.makedirs(a.out, exist_ok=True)
    providers = max(10, a.size // 20)
    requesters = max(10, a.size // 5)
    with open(os.path.join(a.out, "offers.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["provider", "text", "category", "price", "lat", "lon", "capacity"])
        for _ in range(a.size):
            cat = rng.choices(cats, weights)[0]
            price = max(1, int(rng.lognormvariate(0, 0.5) * PRICE[cat])) * 100
            lat, lon = near(rng, 15)
            w.writerow([f"p{rng.randrange(providers)}", snippet(rng, texts, cat, 80), cat, price, lat, lon,
                        rng.choice([1, 1, 2, 3, 5])])
    with open(os.path.join(a.out, "demands.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["requester", "text", "category", "budget", "lat", "lon", "max_distance_km", "quantity"])
        for _ in range(a.size):
            cat = rng.choices(cats, weights)[0]
            budget = int(rng.lognormvariate(0.3, 0.5) * PRICE[cat]) * 100
            lat, lon = near(rng, 15)
            w.writerow([f"u{rng.randrange(requesters)}", snippet(rng, texts, cat, 40), cat, budget, lat, lon,
                        rng.choice([10, 20, 30, 50, 100]), rng.choice([1, 1, 1, 2])])
    print(f"{a.size} offers and {a.size} demands in {a.out} ({'real texts' if texts else 'generated texts'})")


if __name__ == "__main__":
    main()
