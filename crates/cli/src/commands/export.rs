//! `wantloop export demands|offers`: writes the import format back.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;
use wantloop_core::time::now_ms;
use wantloop_store::{DemandFilter, OfferFilter, Page};

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

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
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
    match args.kind {
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
