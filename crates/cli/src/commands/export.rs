//! `wantloop export demands|offers`: writes the import format back;
//! `wantloop export features`: the matches' outcomes as ranking rows.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;
use wantloop_core::time::now_ms;
use wantloop_store::{DemandFilter, OfferFilter, Page};

use crate::StoreArgs;
use crate::records::{DemandRecord, Format, Kind, OfferRecord};

/// What to export.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ExportKind {
    Demands,
    Offers,
    /// Matches with an outcome as learning-to-rank rows: the features each
    /// was proposed with, and its graded label.
    Features,
    /// The visual vectors of a labelled image folder (`--dir`), as a NumPy .npy file (`--out`), in
    /// `labels.csv` order: for peers to index the same vectors.
    ImageVectors,
}

#[derive(clap::Args)]
pub struct Args {
    kind: ExportKind,
    /// Output file (.csv or .jsonl; for features .tsv or .jsonl); standard output when absent.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Format for standard output.
    #[arg(long, value_parser = ["csv", "jsonl"], default_value = "csv")]
    format: String,
    /// Features as JSON lines (one object per labelled match).
    #[arg(long, conflicts_with = "tsv")]
    json: bool,
    /// Features as `qid<TAB>label<TAB>feature…` with a header (`wantloop eval ranker`'s format; the default).
    #[arg(long)]
    tsv: bool,
    /// With image-vectors: the folder with `labels.csv`.
    #[arg(long)]
    dir: Option<PathBuf>,
    #[command(flatten)]
    image: super::eval::ImageFeatureArgs,
    #[command(flatten)]
    store: StoreArgs,
}

/// Writes records one page at a time, so an export holds one page of rows
/// however large the table.
struct Sink<'a> {
    csv: Option<csv::Writer<&'a mut dyn Write>>,
    raw: Option<&'a mut dyn Write>,
}

impl<'a> Sink<'a> {
    fn new(format: Format, out: &'a mut dyn Write) -> Self {
        match format {
            Format::Csv => Self { csv: Some(csv::Writer::from_writer(out)), raw: None },
            Format::Jsonl => Self { csv: None, raw: Some(out) },
        }
    }

    fn write<T: Serialize>(&mut self, r: &T) -> anyhow::Result<()> {
        if let Some(w) = &mut self.csv {
            w.serialize(r)?;
        } else if let Some(out) = &mut self.raw {
            serde_json::to_writer(&mut **out, r)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        if let Some(mut w) = self.csv {
            w.flush()?;
        }
        Ok(())
    }
}

/// Writes every labelled match; `qid` numbers the queries (one per demand,
/// single proposals pooled per day), in time order.
async fn export_features(engine: &wantloop_engine::Engine, args: &Args) -> anyhow::Result<ExitCode> {
    let outcomes = engine.outcomes().await?;
    let json = args.json || args.out.as_ref().is_some_and(|p| p.extension().is_some_and(|e| e == "jsonl"));
    let mut out: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    if !json {
        writeln!(out, "qid\tlabel\t{}", wantloop_core::FeatureScores::NAMES.join("\t"))?;
    }
    for (qid, row) in outcomes.query_numbers() {
        if json {
            let features: serde_json::Map<String, serde_json::Value> = wantloop_core::FeatureScores::NAMES
                .iter()
                .zip(row.features.vector())
                .map(|(n, v)| (n.to_string(), serde_json::json!(v)))
                .collect();
            let record = serde_json::json!({
                "qid": qid, "demand_id": row.demand_id, "label": row.label, "match_id": row.match_id, "offer_id": row.offer_id,
                "status": row.status, "rating": row.rating, "proposed_at": row.proposed_at,
                "features": features, "scored_by": row.features.explanation.map(|e| e.model_id),
            });
            serde_json::to_writer(&mut out, &record)?;
            out.write_all(b"\n")?;
        } else {
            let values: Vec<String> = row.features.vector().iter().map(|v| v.to_string()).collect();
            writeln!(out, "{qid}\t{}\t{}", row.label, values.join("\t"))?;
        }
    }
    out.flush()?;
    eprintln!("exported {} labelled matches of {} demands", outcomes.rows(), outcomes.queries.len());
    Ok(ExitCode::SUCCESS)
}

fn export_image_vectors(args: &Args) -> anyhow::Result<ExitCode> {
    let (Some(dir), Some(out)) = (&args.dir, &args.out) else {
        anyhow::bail!("image-vectors needs --dir FOLDER and --out FILE.npy");
    };
    let n = wantloop_eval::images::export_vectors(dir, args.image.model(&args.store.data_dir)?.as_deref(), out)?;
    eprintln!("exported {n} vectors to {}", out.display());
    Ok(ExitCode::SUCCESS)
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let records = match args.kind {
        ExportKind::ImageVectors => return tokio::task::block_in_place(|| export_image_vectors(&args)),
        ExportKind::Features => return export_features(&args.store.open().await?, &args).await,
        ExportKind::Demands => Kind::Demands,
        ExportKind::Offers => Kind::Offers,
    };
    let engine = args.store.open().await?;
    let store = engine.store();
    let format = match &args.out {
        Some(p) => Format::from_path(p)?,
        None if args.format == "jsonl" => Format::Jsonl,
        None => Format::Csv,
    };
    let mut out: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut sink = Sink::new(format, &mut *out);
    let now = now_ms();
    let mut count = 0;
    let mut page = Page::first(Page::MAX_LIMIT);
    match records {
        Kind::Demands => loop {
            let rows = store.list_demands(&DemandFilter::default(), page).await?;
            let Some(last) = rows.last() else { break };
            page.after = last.id;
            for d in &rows {
                sink.write(&DemandRecord::from_demand(d, now))?;
            }
            count += rows.len();
        },
        Kind::Offers => loop {
            let rows = store.list_offers(&OfferFilter::default(), page).await?;
            let Some(last) = rows.last() else { break };
            page.after = last.id;
            for o in &rows {
                sink.write(&OfferRecord::from_offer(o))?;
            }
            count += rows.len();
        },
    }
    sink.finish()?;
    out.flush()?;
    if let Some(p) = &args.out {
        eprintln!("exported {count} records to {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}
