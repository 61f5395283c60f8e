//! `wantloop demo`: generates a bilingual demo marketplace into a fresh store,
//! runs the whole loop on it (classify, allocate, accept / reject, fulfil with
//! relisting), prints a summary, then serves the same data over HTTP.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use rand::prelude::*;
use rand::rngs::StdRng;
use wantloop_core::matching::RelistInput;
use wantloop_core::{MatchStatus, MatchTransition};
use wantloop_engine::{AllocationReport, Engine, EngineConfig};
use wantloop_match::Mode;
use wantloop_ml::classifier::{FeatureConfig, LabelledText, TrainConfig};
use wantloop_server::{Application, Limits};
use wantloop_store::{MatchFilter, NewModel, Stats, Store};

use super::import::{BATCH_ROWS, progress, store_demands, store_offers};
use crate::demo_data::generate;

/// The demo's FAQ about wantloop itself, written for the product.
pub const DEMO_FAQ: &str = include_str!("../../demo/faq.jsonl");

#[derive(clap::Args)]
pub struct Args {
    /// Folder for the demo store; its previous demo database is replaced.
    #[arg(long, default_value = "./wantloop-demo")]
    data_dir: PathBuf,
    #[arg(long, default_value_t = 1_000)]
    offers: usize,
    #[arg(long, default_value_t = 2_000)]
    demands: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Where to serve the demo afterwards (a free port is used if it is taken).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Exit after the summary instead of serving.
    #[arg(long)]
    no_serve: bool,
    /// Print the summary as one JSON object.
    #[arg(long)]
    json: bool,
}

/// A generated picture for every offer of goods (`demo_images.rs`), so
/// search by image works on the demo; returns how many.
async fn add_pictures(engine: &Engine, seed: u64) -> anyhow::Result<usize> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x1a6e);
    let offers = engine.store().all_offers(&Default::default()).await?;
    let bar = progress(offers.len(), "pictures");
    let mut added = 0;
    for (i, o) in offers.iter().enumerate() {
        if let Some(png) = crate::demo_images::picture(&o.category, &mut rng) {
            engine.add_image(wantloop_store::ImageOwner::Offer, o.id, png).await?;
            added += 1;
        }
        bar.set_position(i as u64 + 1);
    }
    bar.finish_and_clear();
    Ok(added)
}

/// Removes the previous demo's database and index from `dir`.
fn fresh_store(dir: &PathBuf) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for suffix in ["", "-wal", "-shm"] {
        let f = dir.join(format!("wantloop.db{suffix}"));
        if f.exists() {
            std::fs::remove_file(&f).with_context(|| format!("cannot remove the old demo database {}", f.display()))?;
        }
    }
    for folder in ["search", "blobs"] {
        let path = dir.join(folder);
        if path.exists() {
            std::fs::remove_dir_all(&path)
                .with_context(|| format!("cannot remove the old demo's {}", path.display()))?;
        }
    }
    Ok(())
}

/// The demo's classifier: trained on demands generated with other seeds (so
/// none of the demo's own texts), evaluated on a further held-out batch,
/// registered and activated, so intake classifies with it.
#[derive(serde::Serialize)]
struct DemoClassifier {
    model: String,
    train_examples: usize,
    held_out_accuracy: f64,
}

async fn train_demo_classifier(engine: &Engine, seed: u64) -> anyhow::Result<DemoClassifier> {
    let labelled = |seed: u64, n: usize| -> Vec<LabelledText> {
        generate(0, n, seed)
            .demands
            .into_iter()
            .filter_map(|d| d.category.map(|label| LabelledText { text: d.text, label }))
            .collect()
    };
    let (examples, held_out) = (labelled(seed.wrapping_add(1), 3_000), labelled(seed.wrapping_add(2), 1_000));
    // The examples stay in the store as base data, so retrains train on them
    // too; the model leaves out the store's held-out tenth, as retrains do.
    let store = engine.store().as_ref();
    wantloop_engine::retrain::keep_as_base(store, &examples, "demo").await?;
    let train: Vec<LabelledText> =
        examples.into_iter().filter(|e| !wantloop_engine::retrain::is_held_out(&e.text)).collect();
    let config =
        TrainConfig { features: FeatureConfig { buckets_log2: 18, ..Default::default() }, ..Default::default() };
    let (model, report) = wantloop_ml::classifier::train(&train, None, &config, &mut |_, _| {})?;
    let (metrics, _) = model.evaluate(&held_out);
    let info = store
        .register_model(&NewModel {
            kind: "classifier".into(),
            data_hash: format!("demo-seed-{seed}"),
            metrics: serde_json::json!({ "accuracy": metrics.accuracy, "macro_f1": metrics.macro_f1 }),
            params: serde_json::json!({
                "train": config, "examples": report.examples, "trigger": "demo",
                "labels_up_to": store.newest_label_id().await?,
            }),
            blob: model.to_bytes(),
        })
        .await?;
    engine.activate_model(info.id, None).await?;
    Ok(DemoClassifier { model: info.tag(), train_examples: report.examples, held_out_accuracy: metrics.accuracy })
}

/// The demo's keys: an admin's, and a user's for one of its requesters.
#[derive(serde::Serialize)]
struct DemoKeys {
    admin: String,
    user: String,
    user_party: String,
}

async fn demo_keys(store: &dyn Store) -> anyhow::Result<DemoKeys> {
    let first = store.list_demands(&Default::default(), wantloop_store::Page::first(1)).await?;
    let party = first.first().map_or_else(|| "demo-user".to_string(), |d| d.requester.clone());
    let key = |role: &str, party: Option<&str>, name: &str| wantloop_core::KeyInput {
        role: role.into(),
        party: party.map(Into::into),
        name: Some(name.into()),
    };
    let (_, admin) = store.create_key(&key("admin", None, "demo admin").parse()?).await?;
    let (_, user) = store.create_key(&key("user", Some(&party), "demo user").parse()?).await?;
    Ok(DemoKeys { admin, user, user_party: party })
}

/// What the demo's simulated people did with the proposals.
#[derive(Default, serde::Serialize)]
struct Reactions {
    accepted: usize,
    rejected: usize,
    fulfilled: usize,
    relisted: usize,
    left_proposed: usize,
}

async fn react(store: &dyn Store, rng: &mut StdRng) -> anyhow::Result<Reactions> {
    let mut r = Reactions::default();
    let filter = MatchFilter { status: Some(MatchStatus::Proposed), ..Default::default() };
    let proposed = store.all_matches(&filter).await?;
    let bar = progress(proposed.len(), "feedback");
    for m in proposed {
        let roll: f64 = rng.random();
        if roll < 0.10 {
            store.transition_match(m.id, MatchTransition::Reject, None, None).await?;
            r.rejected += 1;
        } else if roll < 0.25 {
            r.left_proposed += 1;
        } else {
            store.transition_match(m.id, MatchTransition::Accept, None, None).await?;
            r.accepted += 1;
            if rng.random_bool(0.8) {
                let relist = rng.random_bool(0.35).then(|| RelistInput {
                    condition: Some(["good", "fair", "used"][rng.random_range(0..3)].to_string()),
                    ..Default::default()
                });
                let relist = relist.map(|i| i.parse()).transpose()?;
                store.transition_match(m.id, MatchTransition::Fulfil, relist.as_ref(), None).await?;
                r.fulfilled += 1;
                r.relisted += usize::from(relist.is_some());
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(r)
}

fn print_summary(
    classifier: &DemoClassifier,
    stats: &Stats,
    reactions: &Reactions,
    greedy: f64,
    optimal: f64,
    alloc: &AllocationReport,
    seconds: f64,
) {
    let total: i64 = stats.demands.values().sum();
    let served =
        stats.demands.get("matched").copied().unwrap_or(0) + stats.demands.get("fulfilled").copied().unwrap_or(0);
    let fmt = |m: &std::collections::BTreeMap<String, i64>| {
        m.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
    };
    println!("wantloop demo — the loop on a generated bilingual marketplace");
    println!(
        "  intake  : {} trained on {} generated demands, {:.1}% accurate on 1,000 held out; it classified the demands posted without a category",
        classifier.model,
        classifier.train_examples,
        100.0 * classifier.held_out_accuracy
    );
    println!("  demands : {}", fmt(&stats.demands));
    println!("  offers  : {}  ({} relisted from fulfilled items)", fmt(&stats.offers), stats.relisted_offers);
    println!("  matches : {}", fmt(&stats.matches));
    println!("  units   : {}", fmt(&stats.match_units));
    println!(
        "  allocation: {} open demands × {} offers, {} feasible pairs → {} units proposed; optimum {:.2} vs greedy {:.2} ({:+.2}%), solved in {:.3} s",
        alloc.demands,
        alloc.offers,
        alloc.edges,
        alloc.proposed_units,
        optimal,
        greedy,
        if greedy > 0.0 { (optimal / greedy - 1.0) * 100.0 } else { 0.0 },
        alloc.solve_seconds
    );
    println!(
        "  feedback: {} accepted, {} rejected, {} fulfilled ({} relisted), {} left proposed",
        reactions.accepted, reactions.rejected, reactions.fulfilled, reactions.relisted, reactions.left_proposed
    );
    println!(
        "  matched share: {:.1}% of demands matched or fulfilled; {} events in the outbox; {:.1} s in all",
        100.0 * served as f64 / total.max(1) as f64,
        stats.events,
        seconds
    );
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    fresh_store(&args.data_dir)?;
    let engine = Engine::open(&EngineConfig::embedded(&args.data_dir)).await?;
    let store = engine.store().clone();
    let data = generate(args.offers, args.demands, args.seed);
    let classifier = train_demo_classifier(&engine, args.seed).await?;

    let report = |line: u64, e: &str| eprintln!("generated row {line}: {e}");
    let bar = progress(data.offers.len(), "offers");
    let rows = data.offers.into_iter().enumerate().map(|(i, o)| (i as u64 + 1, Ok(o)));
    let bad_offers =
        store_offers(&engine, rows, (BATCH_ROWS, None), &report, &|t| bar.set_position((t.stored + t.rejected) as u64))
            .await
            .rejected;
    bar.finish_and_clear();
    let bar = progress(data.demands.len(), "demands");
    let rows = data.demands.into_iter().enumerate().map(|(i, d)| (i as u64 + 1, Ok(d)));
    let bad_demands = store_demands(&engine, rows, (BATCH_ROWS, None), &report, &|t| {
        bar.set_position((t.stored + t.rejected) as u64)
    })
    .await
    .rejected;
    bar.finish_and_clear();
    anyhow::ensure!(bad_offers + bad_demands == 0, "the generator produced invalid rows");
    let pictures = add_pictures(&engine, args.seed).await?;
    // The assistant's FAQ about wantloop itself (`POST /v1/ask`).
    let faq = engine.import_faq("faq.jsonl", DEMO_FAQ).await?;
    anyhow::ensure!(faq.errors.is_empty(), "the demo FAQ has bad lines: {:?}", faq.errors);

    let greedy = engine.allocate(Mode::Greedy, true).await?;
    let alloc = engine.allocate(Mode::Optimal, false).await?;
    let mut rng = StdRng::seed_from_u64(args.seed ^ 0x5eed);
    let reactions = react(store.as_ref(), &mut rng).await?;
    let stats = store.stats().await?;
    let keys = demo_keys(store.as_ref()).await?;
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        let summary = serde_json::json!({
            "stats": stats, "feedback": reactions, "allocation": alloc, "classifier": classifier,
            "greedy_objective": greedy.objective, "seconds": seconds, "keys": keys, "pictures": pictures,
            "faq_entries": faq.saved,
        });
        println!("{summary}");
    } else {
        print_summary(&classifier, &stats, &reactions, greedy.objective, alloc.objective, &alloc, seconds);
        println!("  pictures: {pictures} offers of goods have one (POST /v1/search/image finds them)");
        println!(
            "  FAQ     : {} entries in Chinese and English (POST /v1/ask, or `wantloop ask \"提议的匹配多久失效？\"`)",
            faq.saved
        );
        println!("admin key:  {}", keys.admin);
        println!("user key:   {}  (acts for {:?}, a requester of the demo)", keys.user, keys.user_party);
    }
    if args.no_serve {
        return Ok(ExitCode::SUCCESS);
    }
    let app = match Application::with_engine(engine.clone(), args.listen, Limits::default()).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("note: {e}; using a free port instead");
            let mut any_port = args.listen;
            any_port.set_port(0);
            Application::with_engine(engine, any_port, Limits::default()).await?
        }
    };
    println!("try: curl -H 'Authorization: Bearer {}' http://{}/v1/stats", keys.admin, app.local_addr());
    println!("dashboard: http://{}/ui (log in with the admin key)", app.local_addr());
    super::serve::serve(app).await?;
    Ok(ExitCode::SUCCESS)
}
