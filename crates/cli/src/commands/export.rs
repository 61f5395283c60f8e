//! `wantloop export demands|offers`: writes the import format back.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;
use wantloop_core::time::now_ms;
use wantloop_store::{DemandFilter, OfferFilter};

use crate::StoreArgs;
use crate::records::{DemandRecord, Format, Kind, OfferRecord};

#[derive(clap::Args)]
pub struct Args {
    kind: Kind,
    /// Output file (.csv or .jsonl); standard output when absent.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Format for standard output.
    #[arg(long, value_parser = ["csv", "jsonl"], default_value = "csv")]
    format: String,
    #[command(flatten)]
    store: StoreArgs,
}

fn write_all<T: Serialize>(records: &[T], format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            for r in records {
                w.serialize(r)?;
            }
            w.flush()?;
        }
        Format::Jsonl => {
            for r in records {
                serde_json::to_writer(&mut *out, r)?;
                out.write_all(b"\n")?;
            }
        }
    }
    Ok(())
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let engine = args.store.open().await?;
    let store = engine.store();
    let format = match &args.out {
        Some(p) => Format::from_path(p)?,
        None if args.format == "jsonl" => Format::Jsonl,
        None => Format::Csv,
    };
    let mut sink: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let now = now_ms();
    let count = match args.kind {
        Kind::Demands => {
            let all: Vec<DemandRecord> = store
                .all_demands(&DemandFilter::default())
                .await?
                .iter()
                .map(|d| DemandRecord::from_demand(d, now))
                .collect();
            write_all(&all, format, &mut sink)?;
            all.len()
        }
        Kind::Offers => {
            let all: Vec<OfferRecord> =
                store.all_offers(&OfferFilter::default()).await?.iter().map(OfferRecord::from_offer).collect();
            write_all(&all, format, &mut sink)?;
            all.len()
        }
    };
    sink.flush()?;
    if let Some(p) = &args.out {
        eprintln!("exported {count} records to {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}
