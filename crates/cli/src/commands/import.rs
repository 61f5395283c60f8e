//! `wantloop import demands|offers FILE`: good rows are stored, bad rows are
//! reported with their line number and reason, and the exit status says
//! whether any row was rejected.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use serde::de::DeserializeOwned;
use wantloop_engine::Engine;

use crate::StoreArgs;
use crate::records::{DemandRecord, Format, Kind, OfferRecord, Row, parse_rows};

#[derive(clap::Args)]
pub struct Args {
    /// What the file holds.
    kind: Kind,
    /// A .csv (header row) or .jsonl file.
    file: PathBuf,
    #[command(flatten)]
    store: StoreArgs,
}

/// Reads a CSV or JSONL file (by extension) into rows; see [`parse_rows`].
pub fn read_rows<T: DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<Row<T>>> {
    let format = Format::from_path(path)?;
    let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_rows(&text, format).with_context(|| path.display().to_string())
}

pub fn progress(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// Stores each row with `store_one`; returns (stored, rejected) and prints
/// each rejection with its line number.
async fn store_rows<R>(
    rows: Vec<Row<R>>,
    bar: &ProgressBar,
    store_one: impl AsyncFn(R) -> Result<(), String>,
) -> (usize, usize) {
    let (mut ok, mut bad) = (0, 0);
    for (line, row) in rows {
        let result = match row {
            Ok(r) => store_one(r).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => ok += 1,
            Err(e) => {
                bar.suspend(|| eprintln!("line {line}: {e}"));
                bad += 1;
            }
        }
        bar.inc(1);
    }
    (ok, bad)
}

pub async fn store_demands(
    engine: &Engine,
    rows: Vec<Row<DemandRecord>>,
    bar: &ProgressBar,
) -> anyhow::Result<(usize, usize)> {
    Ok(store_rows(rows, bar, async |r: DemandRecord| {
        let d = r.to_input().and_then(|i| i.parse()).map_err(|e| e.to_string())?;
        engine.create_demand(&d, None).await.map(|_| ()).map_err(|e| e.to_string())
    })
    .await)
}

pub async fn store_offers(
    engine: &Engine,
    rows: Vec<Row<OfferRecord>>,
    bar: &ProgressBar,
) -> anyhow::Result<(usize, usize)> {
    Ok(store_rows(rows, bar, async |r: OfferRecord| {
        let o = r.to_input().and_then(|i| i.parse()).map_err(|e| e.to_string())?;
        engine.store().create_offer(&o, None).await.map(|_| ()).map_err(|e| e.to_string())
    })
    .await)
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    // The file is read before the store is opened: a file that cannot be
    // read leaves no database behind.
    let (ok, bad) = match args.kind {
        Kind::Demands => {
            let rows = read_rows::<DemandRecord>(&args.file)?;
            let engine = args.store.open().await?;
            let bar = progress(rows.len(), "demands");
            let r = store_demands(&engine, rows, &bar).await?;
            bar.finish_and_clear();
            r
        }
        Kind::Offers => {
            let rows = read_rows::<OfferRecord>(&args.file)?;
            let engine = args.store.open().await?;
            let bar = progress(rows.len(), "offers");
            let r = store_offers(&engine, rows, &bar).await?;
            bar.finish_and_clear();
            r
        }
    };
    let what = format!("{:?}", args.kind).to_lowercase();
    println!("imported {ok} {what} from {}, rejected {bad}", args.file.display());
    if bad > 0 {
        eprintln!("error: {bad} row(s) of {} were rejected (see the lines above)", args.file.display());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
