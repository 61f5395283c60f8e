//! Images through the engine: uploads measured and stored, refused ones
//! leaving nothing, search by image with filters applied inside the index
//! (checked against exact filtered search), deletions and other nodes'
//! uploads followed, the index rebuilt from the store or loaded from its
//! snapshot after a restart, and images of other features re-vectorised.
//! SQLite and, when configured, PostgreSQL.

use std::io::Cursor;
use std::sync::Arc;

use image::{ImageFormat, Rgb, RgbImage};
use wantloop_core::offer::OfferInput;
use wantloop_engine::visual::{Origin, VisualFilter};
use wantloop_engine::{Engine, EngineConfig, EngineError, IndexLocation};
use wantloop_image::ImageError;
use wantloop_store::testing::TestDb;
use wantloop_store::{ImageOwner, Store};

fn config(db: &TestDb) -> EngineConfig {
    EngineConfig {
        database_url: db.url.clone(),
        index: IndexLocation::Memory,
        blobs: None,
        ..EngineConfig::embedded(std::path::Path::new("."))
    }
}

async fn databases() -> Vec<TestDb> {
    let mut dbs = vec![TestDb::sqlite().await.unwrap()];
    dbs.extend(TestDb::postgres().await.unwrap());
    dbs
}

async fn post_offer(store: &dyn Store, category: &str, price: i64) -> i64 {
    let offer = OfferInput {
        provider: "bob".into(),
        text: "an item".into(),
        category: category.into(),
        price,
        capacity: Some(1),
        ..Default::default()
    };
    store.create_offer(&offer.parse().unwrap(), None).await.unwrap().done().unwrap().id
}

/// A picture: a shape of `hue` on a dark ground, moved by `shift`.
fn picture(hue: usize, round: bool, shift: u32) -> Vec<u8> {
    let colours = [[220, 40, 40], [40, 200, 60], [50, 80, 230], [230, 210, 40], [200, 60, 200], [40, 210, 210]];
    let c = colours[hue % colours.len()];
    let image = RgbImage::from_fn(96, 80, |x, y| {
        let (dx, dy) = (x as f32 - 40.0 - shift as f32, y as f32 - 40.0);
        let inside = if round { dx * dx + dy * dy < 500.0 } else { dx.abs() < 22.0 && dy.abs() < 14.0 };
        if inside { Rgb(c) } else { Rgb([15, 15, 18]) }
    });
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_by_image_filters_inside_the_index_and_follows_changes() {
    for db in databases().await {
        search_by_image_on(db).await;
    }
}

async fn search_by_image_on(db: TestDb) {
    let store: Arc<dyn Store> = Arc::new(db.store.clone());
    let engine = Engine::with_store(store.clone(), &config(&db)).await.unwrap();
    // Twelve offers: six colours × round or square, two categories, rising prices.
    let mut offers = Vec::new();
    for i in 0..12usize {
        let category = if i % 2 == 0 { "bicycles" } else { "furniture" };
        let id = post_offer(store.as_ref(), category, 1_000 * (i as i64 + 1)).await;
        let info = engine.add_image(ImageOwner::Offer, id, picture(i / 2, i % 2 == 0, 0)).await.unwrap();
        assert_eq!((info.position, info.width, info.height, info.content_type.as_str()), (1, 96, 80, "image/png"));
        offers.push(id);
    }
    // The same picture, moved: its offer first.
    let hits = engine.search_by_image(picture(2, true, 6), &VisualFilter::default(), 5).await.unwrap();
    assert_eq!(hits[0].offer.id, offers[4], "{hits:?}");
    assert!(hits[0].similarity > 0.9 && hits.windows(2).all(|w| w[0].similarity >= w[1].similarity));

    // Filters apply inside the search: the results equal exact search over
    // the offers the filter keeps.
    let filter = VisualFilter { category: Some("furniture".into()), max_price: Some(9_000), ..Default::default() };
    let hits = engine.search_by_image(picture(2, true, 6), &filter, 3).await.unwrap();
    assert_eq!(hits.len(), 3);
    assert!(hits.iter().all(|h| h.offer.category == "furniture" && h.offer.price <= 9_000), "{hits:?}");
    let exact =
        exact_top(&engine, &offers, picture(2, true, 6), |o| o.category == "furniture" && o.price <= 9_000, 3).await;
    assert_eq!(hits.iter().map(|h| h.offer.id).collect::<Vec<_>>(), exact);

    // Similar offers by image: never itself; the same colour in the other shape is near.
    let similar = engine.similar_by_image(offers[4], &VisualFilter::default(), 3).await.unwrap();
    assert!(similar.iter().all(|h| h.offer.id != offers[4]));
    assert_eq!(similar[0].offer.id, offers[5], "{similar:?}");

    // A second node on the same store follows uploads and deletions.
    let other = Engine::with_store(store.clone(), &config(&db)).await.unwrap();
    let late = post_offer(store.as_ref(), "bicycles", 500).await;
    engine.add_image(ImageOwner::Offer, late, picture(2, true, 3)).await.unwrap();
    let first = |h: &[wantloop_engine::ImageHit]| h.first().map(|h| h.offer.id);
    let seen = other.search_by_image(picture(2, true, 3), &VisualFilter::default(), 1).await.unwrap();
    assert_eq!(first(&seen), Some(late));
    engine.delete_image(ImageOwner::Offer, late, 1).await.unwrap();
    let seen = other.search_by_image(picture(2, true, 3), &VisualFilter::default(), 1).await.unwrap();
    assert_eq!(first(&seen), Some(offers[4]), "a deleted image is not found");

    // A restart rebuilds the index from the store: the same answers.
    let before = engine.search_by_image(picture(4, false, 2), &filter, 4).await.unwrap();
    drop(engine);
    let restarted = Engine::with_store(store.clone(), &config(&db)).await.unwrap();
    assert_eq!(restarted.visual_index().await.unwrap().len(), 12);
    let after = restarted.search_by_image(picture(4, false, 2), &filter, 4).await.unwrap();
    let ids = |h: &[wantloop_engine::ImageHit]| h.iter().map(|h| (h.offer.id, h.image_position)).collect::<Vec<_>>();
    assert_eq!(ids(&before), ids(&after));
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_loads_the_saved_graph_and_applies_what_happened_since() {
    for db in databases().await {
        snapshot_on(db).await;
    }
}

async fn snapshot_on(db: TestDb) {
    let store: Arc<dyn Store> = Arc::new(db.store.clone());
    let dir = tempfile::tempdir().unwrap();
    let on_disk = EngineConfig { index: IndexLocation::Dir(dir.path().join("search")), ..config(&db) };
    let engine = Engine::with_store(store.clone(), &on_disk).await.unwrap();
    assert_eq!(engine.visual_index().await.unwrap().origin(), Origin::Store, "nothing saved yet");
    let mut offers = Vec::new();
    for i in 0..8usize {
        let id = post_offer(store.as_ref(), "bicycles", 1_000).await;
        engine.add_image(ImageOwner::Offer, id, picture(i / 2, i % 2 == 0, 0)).await.unwrap();
        offers.push(id);
    }
    let index = engine.visual_index().await.unwrap();
    assert_eq!(index.len(), 8);
    index.save().await;
    assert!(dir.path().join("search.visual").is_file());
    drop(engine);

    // While the node is down another one adds an image and deletes one.
    let other = Engine::with_store(store.clone(), &config(&db)).await.unwrap();
    let late = post_offer(store.as_ref(), "bicycles", 500).await;
    other.add_image(ImageOwner::Offer, late, picture(5, true, 3)).await.unwrap();
    other.delete_image(ImageOwner::Offer, offers[0], 1).await.unwrap();

    let restarted = Engine::with_store(store.clone(), &on_disk).await.unwrap();
    let index = restarted.visual_index().await.unwrap();
    assert_eq!(index.origin(), Origin::Snapshot);
    assert_eq!(index.len(), 8, "seven saved, one added since");
    let top = |hits: Vec<wantloop_engine::ImageHit>| hits.first().map(|h| h.offer.id);
    let found = restarted.search_by_image(picture(5, true, 3), &VisualFilter::default(), 1).await.unwrap();
    assert_eq!(top(found), Some(late));
    let found = restarted.search_by_image(picture(0, true, 0), &VisualFilter::default(), 8).await.unwrap();
    assert!(found.iter().all(|h| h.offer.id != offers[0]), "the deletion since is applied");
    assert_eq!(found.len(), 8);
    let found = restarted.search_by_image(picture(3, false, 0), &VisualFilter::default(), 1).await.unwrap();
    assert_eq!(top(found), Some(offers[7]), "a saved image is found");
    drop(restarted);

    // A damaged snapshot is rebuilt from the store, with the same answers.
    let path = dir.path().join("search.visual");
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.len() - 100;
    bytes.truncate(at);
    std::fs::write(&path, &bytes).unwrap();
    let rebuilt = Engine::with_store(store.clone(), &on_disk).await.unwrap();
    let index = rebuilt.visual_index().await.unwrap();
    assert_eq!((index.origin(), index.len()), (Origin::Store, 8));
    let found = rebuilt.search_by_image(picture(5, true, 3), &VisualFilter::default(), 1).await.unwrap();
    assert_eq!(top(found), Some(late));
    drop(rebuilt);

    // A snapshot of another database (ahead of this store) is not used.
    let fresh = TestDb::sqlite().await.unwrap();
    let fresh_store: Arc<dyn Store> = Arc::new(fresh.store.clone());
    let elsewhere =
        Engine::with_store(fresh_store, &EngineConfig { database_url: fresh.url.clone(), ..on_disk.clone() })
            .await
            .unwrap();
    let index = elsewhere.visual_index().await.unwrap();
    assert_eq!((index.origin(), index.len()), (Origin::Store, 0));
    drop(elsewhere);
    fresh.cleanup().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_of_other_features_are_revectorised_and_followed() {
    for db in databases().await {
        revectorise_on(db).await;
    }
}

async fn revectorise_on(db: TestDb) {
    let store: Arc<dyn Store> = Arc::new(db.store.clone());
    let engine = Engine::with_store(store.clone(), &config(&db)).await.unwrap();
    let other = Engine::with_store(store.clone(), &config(&db)).await.unwrap();
    let mut offers = Vec::new();
    for i in 0..4usize {
        let id = post_offer(store.as_ref(), "bicycles", 1_000).await;
        engine.add_image(ImageOwner::Offer, id, picture(i, true, 0)).await.unwrap();
        offers.push(id);
    }
    let top = |hits: Vec<wantloop_engine::ImageHit>| hits.first().map(|h| h.offer.id);
    // Two images as if stored before the network was installed (another
    // features' vectors), one of them with an original that no longer decodes.
    let images = store.images_of(ImageOwner::Offer, offers[2]).await.unwrap();
    store.set_image_vector(images[0].id, "older features", &[1.0, 0.0]).await.unwrap();
    let broken = post_offer(store.as_ref(), "bicycles", 1_000).await;
    let new_image = wantloop_store::NewImage {
        owner: ImageOwner::Offer,
        owner_id: broken,
        content_type: "image/png".into(),
        width: 1,
        height: 1,
        sha256: "0".repeat(64),
        features: "older features".into(),
        vector: vec![0.0, 1.0],
        original: b"not a picture".to_vec(),
        thumbnail: Vec::new(),
    };
    store.add_image(&new_image, 8).await.unwrap();
    for node in [&engine, &other] {
        let hits = node.search_by_image(picture(2, true, 0), &VisualFilter::default(), 8).await.unwrap();
        assert_eq!(hits.len(), 3, "vectors of other features are not indexed");
        assert!(hits.iter().all(|h| h.offer.id != offers[2]));
    }

    let report = engine.revectorise_images(&|_| {}).await.unwrap();
    assert_eq!(
        report,
        wantloop_engine::RevectorReport { checked: 5, revectored: 1, failed: 1 },
        "the four of this node's features are left, the broken one counted"
    );
    for node in [&engine, &other] {
        let hits = node.search_by_image(picture(2, true, 0), &VisualFilter::default(), 1).await.unwrap();
        assert_eq!(top(hits), Some(offers[2]), "every node follows the new vector");
    }
    let again = engine.revectorise_images(&|_| {}).await.unwrap();
    assert_eq!((again.revectored, again.failed), (0, 1), "a second pass has nothing new to do");
    db.cleanup().await;
}

/// The exact top `k` offers (each by its image) that `keep` accepts.
async fn exact_top(
    engine: &Engine,
    offers: &[i64],
    query: Vec<u8>,
    keep: impl Fn(&wantloop_core::Offer) -> bool,
    k: usize,
) -> Vec<i64> {
    let extractor = wantloop_image::Extractor::hand_crafted();
    let q = extractor.extract(&wantloop_image::decode(&query, &Default::default()).unwrap()).unwrap();
    let mut scored = Vec::new();
    for id in offers {
        let offer = engine.store().get_offer(*id).await.unwrap();
        if !keep(&offer) {
            continue;
        }
        let (_, bytes) = engine.image_bytes(ImageOwner::Offer, *id, 1, false).await.unwrap();
        let v = extractor.extract(&wantloop_image::decode(&bytes, &Default::default()).unwrap()).unwrap();
        scored.push((wantloop_image::ann::dot(&q, &v), *id));
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(k).map(|(_, id)| id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_images_store_nothing() {
    for db in databases().await {
        let store: Arc<dyn Store> = Arc::new(db.store.clone());
        let mut config = config(&db);
        config.images.limits.max_pixels = 8_000; // above the 96 × 80 pictures
        let engine = Engine::with_store(store.clone(), &config).await.unwrap();
        let offer = post_offer(store.as_ref(), "bicycles", 100).await;
        let before = store.last_event_id().await.unwrap();
        let png = picture(0, true, 0);
        let big = {
            let mut out = Cursor::new(Vec::new());
            RgbImage::new(120, 100).write_to(&mut out, ImageFormat::Png).unwrap();
            out.into_inner()
        };
        type Expected = fn(&ImageError) -> bool;
        let cases: Vec<(Vec<u8>, Expected)> = vec![
            (png[..png.len() / 2].to_vec(), |e| matches!(e, ImageError::Corrupt(_))),
            (b"GIF89a not really".to_vec(), |e| matches!(e, ImageError::UnsupportedFormat)),
            (big, |e| matches!(e, ImageError::TooManyPixels { pixels: 12_000, limit: 8_000 })),
        ];
        for (bytes, expected) in cases {
            match engine.add_image(ImageOwner::Offer, offer, bytes).await {
                Err(EngineError::Image(e)) => assert!(expected(&e), "{e}"),
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(
            engine.add_image(ImageOwner::Offer, 987_654, png).await,
            Err(EngineError::Store(wantloop_store::StoreError::NotFound { .. }))
        ));
        assert!(engine.images_of(ImageOwner::Offer, offer).await.unwrap().is_empty());
        assert_eq!(store.last_event_id().await.unwrap(), before, "no event either");
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demand_with_an_image_gets_the_visual_feature_both_ways() {
    for db in databases().await {
        let store: Arc<dyn Store> = Arc::new(db.store.clone());
        let engine = Engine::with_store(store.clone(), &config(&db)).await.unwrap();
        let alike = post_offer(store.as_ref(), "bicycles", 1_000).await;
        let unlike = post_offer(store.as_ref(), "bicycles", 1_000).await;
        let bare = post_offer(store.as_ref(), "bicycles", 1_000).await;
        engine.add_image(ImageOwner::Offer, alike, picture(2, true, 0)).await.unwrap();
        engine.add_image(ImageOwner::Offer, unlike, picture(3, false, 0)).await.unwrap();
        let demand = wantloop_core::DemandInput {
            requester: "alice".into(),
            text: "an item".into(),
            category: Some("bicycles".into()),
            ..Default::default()
        };
        let class = wantloop_store::Classification::given("bicycles");
        let d = store.create_demand(&demand.parse().unwrap(), &class, None).await.unwrap().done().unwrap();
        let visual_of = |c: &[wantloop_engine::ScoredOffer], id: i64| {
            c.iter().find(|s| s.offer.id == id).map(|s| s.features.visual).unwrap()
        };
        // Without an image on the demand, no offer gets a visual score.
        let before = engine.candidates_for_demand(d.id, 10).await.unwrap();
        assert!([alike, unlike, bare].iter().all(|id| visual_of(&before, *id) == 0.0));
        engine.add_image(ImageOwner::Demand, d.id, picture(2, true, 5)).await.unwrap();
        let after = engine.candidates_for_demand(d.id, 11).await.unwrap();
        let (a, u, b) = (visual_of(&after, alike), visual_of(&after, unlike), visual_of(&after, bare));
        // Mostly the same dark ground: the unlike picture is still fairly near.
        assert!(a > 0.95 && a > u + 0.1, "alike {a}, unlike {u}");
        assert_eq!(b, 0.0, "an offer without images");
        // The reverse question sees the same pair alike, and a match keeps it.
        let reverse = engine.demands_for_offer(alike, 10).await.unwrap();
        let r = reverse.iter().find(|s| s.demand.id == d.id).unwrap().features.visual;
        assert!((r - a).abs() < 1e-9, "{r} vs {a}");
        let proposed = engine.match_demand(d.id, None).await.unwrap().done().unwrap();
        let m = &proposed.matches[0];
        let stored = store.get_match(m.id).await.unwrap();
        assert!((stored.features.visual - visual_of(&after, m.offer_id)).abs() < 1e-9);
        db.cleanup().await;
    }
}
