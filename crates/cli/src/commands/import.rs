//! `wantloop import demands|offers FILE`: the file streams through in batches
//! (each batch one transaction with its rows' outbox events); good rows are
//! stored, bad rows are reported with their line number and reason, and the
//! exit status says whether any row was rejected. The search index is brought
//! up to date at the end, so a `serve` started next answers at once.

use std::collections::VecDeque;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use wantloop_cli::encoding;
use wantloop_core::NewOffer;
use wantloop_core::demand::NewDemand;
use wantloop_engine::Engine;
use wantloop_store::Classification;

use crate::StoreArgs;
use crate::records::{DemandRecord, Format, Kind, OfferRecord, Row, rows};

/// Rows per transaction: large enough that the commit is a small share of
/// the work, small enough that a batch's rows and events stay tens of MB.
/// Each commit rewrites the touched pages of the tables' secondary indexes,
/// so fewer, larger ones import faster: at 1M rows on SQLite 25,000 took
/// demands from 42-48k to 48-52k rows/s and offers from 46-47k to 54-56k
/// (alternating runs; 50,000 and 100,000 were no faster).
pub const BATCH_ROWS: usize = 25_000;

#[derive(clap::Args)]
pub struct Args {
    /// What the file holds.
    kind: ImportKind,
    /// A .csv (header row) or .jsonl file.
    file: PathBuf,
    /// The file's character encoding (utf-8, gbk, gb18030, utf-16le, …);
    /// by default a byte-order mark decides, else UTF-8 if valid, else detected.
    #[arg(long)]
    encoding: Option<String>,
    /// Rows per transaction (each with its rows' outbox events).
    #[arg(long, default_value_t = BATCH_ROWS as u32, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    batch_rows: u32,
    /// Batches written at once (default: 2 on PostgreSQL, 1 on SQLite, which
    /// has one writer). With more than one, ids follow the file within each
    /// batch, but batches written together may take their ids interleaved;
    /// 1 keeps the whole file's order.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=8))]
    writers: Option<u32>,
    #[command(flatten)]
    store: StoreArgs,
}

/// What an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportKind {
    Demands,
    Offers,
    /// The assistant's FAQ: JSON lines `{"entry","lang","questions","answer"}` or CSV `entry,lang,question,answer`.
    Faq,
    /// Facts of the assistant's knowledge graph: CSV `subject,relation,object` (header optional).
    Triples,
}

/// A small file (an FAQ, triples) read whole and decoded to UTF-8 as the
/// record imports decode theirs.
fn whole_file(args: &Args) -> anyhow::Result<String> {
    let mut decoded = encoding::open(&args.file, args.encoding.as_deref(), |f| Box::new(f) as Box<dyn Read + Send>)?;
    let mut text = String::new();
    decoded.reader.read_to_string(&mut text)?;
    Ok(text)
}

/// `wantloop import triples FILE`: good rows stored, each bad line reported
/// with its number; a non-zero exit if any line was refused.
async fn import_triples(args: Args) -> anyhow::Result<ExitCode> {
    let text = whole_file(&args)?;
    let engine = args.store.open().await?;
    let out = engine.import_triples(&text).await?;
    for e in &out.errors {
        eprintln!("line {}: {}", e.line, e.reason);
    }
    println!("imported {} new triples from {}, rejected {} lines", out.added, args.file.display(), out.errors.len());
    Ok(if out.errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `wantloop import faq FILE`: good entries saved, each bad line reported
/// with its number; a non-zero exit if any line was refused.
async fn import_faq(args: Args) -> anyhow::Result<ExitCode> {
    let text = whole_file(&args)?;
    let engine = args.store.open().await?;
    let name = args.file.to_string_lossy().to_lowercase();
    let out = engine.import_faq(&name, &text).await?;
    for e in &out.errors {
        eprintln!("line {}: {}", e.line, e.reason);
    }
    println!("imported {} FAQ entries from {}, rejected {} lines", out.saved, args.file.display(), out.errors.len());
    Ok(if out.errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
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

/// A bar over a file's bytes, its message counting rows and rows/s.
fn file_progress(len: u64) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} (eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

/// What a batched import did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub stored: usize,
    pub rejected: usize,
}

/// One batch of rows read from the file: the good ones parsed, with their
/// line numbers, and the rejected ones' errors.
struct Batch<N> {
    lines: Vec<u64>,
    good: Vec<N>,
    rejected: Vec<(u64, String)>,
}

/// Reads and validates the next `size` rows; `None` at the end.
fn read_batch<R, N>(
    rows: &mut impl Iterator<Item = Row<R>>,
    size: usize,
    parse: &impl Fn(R) -> Result<N, String>,
) -> Option<Batch<N>> {
    let mut b = Batch { lines: Vec::with_capacity(size), good: Vec::with_capacity(size), rejected: Vec::new() };
    let mut any = false;
    for (line, row) in rows.by_ref().take(size) {
        any = true;
        match row.and_then(parse) {
            Ok(n) => {
                b.lines.push(line);
                b.good.push(n);
            }
            Err(e) => b.rejected.push((line, e)),
        }
    }
    any.then_some(b)
}

/// Validates rows with `parse`, stores each batch of good ones with
/// `insert_many`, and, when a batch fails as a whole, stores its rows one by
/// one with `insert_one` so that only the rows that fail are rejected (with
/// their line numbers, reported in file order). `tick` is told the rows done
/// after each batch.
///
/// Writes run in tasks of their own, up to `writers` batches at once, while
/// this task reads and validates the next batch: a write polled only between
/// parses (as when both shared one task) left the database idle while a batch
/// was parsed. Batches are reported in file order whatever order their
/// writes finish in.
#[allow(clippy::too_many_arguments)]
async fn import_batches<R, N, W>(
    rows: impl Iterator<Item = Row<R>>,
    batch_rows: usize,
    writers: usize,
    parse: impl Fn(R) -> Result<N, String>,
    insert_many: impl Fn(Arc<Vec<N>>) -> W,
    insert_one: impl AsyncFn(&N) -> Result<(), String>,
    report: &dyn Fn(u64, &str),
    tick: &dyn Fn(&Tally),
) -> Tally
where
    N: Send + Sync + 'static,
    W: Future<Output = Result<(), String>> + Send + 'static,
{
    let mut tally = Tally::default();
    let mut rows = rows;
    let mut writing = VecDeque::with_capacity(writers.max(1));
    let mut next = read_batch(&mut rows, batch_rows, &parse);
    loop {
        while writing.len() < writers.max(1)
            && let Some(batch) = next.take()
        {
            let good = Arc::new(batch.good);
            let write = (!good.is_empty()).then(|| tokio::spawn(insert_many(good.clone())));
            writing.push_back((batch.lines, good, batch.rejected, write));
            next = read_batch(&mut rows, batch_rows, &parse);
        }
        let Some((lines, good, rejected, write)) = writing.pop_front() else { break };
        let stored = match write {
            None => Ok(()),
            Some(task) => task.await.unwrap_or_else(|e| Err(format!("the batch's write failed: {e}"))),
        };
        // Rows one by one, if the batch failed: (line, outcome) in file order.
        let mut outcomes: Vec<(u64, Result<(), String>)> = rejected.into_iter().map(|(l, e)| (l, Err(e))).collect();
        match stored {
            Ok(()) => tally.stored += good.len(),
            Err(batch_error) => {
                tracing::warn!(error = %batch_error, "a batch failed; storing its rows one by one");
                for (line, n) in lines.iter().zip(good.iter()) {
                    outcomes.push((*line, insert_one(n).await));
                }
            }
        }
        outcomes.sort_by_key(|(line, _)| *line);
        for (line, outcome) in outcomes {
            match outcome {
                Ok(()) => tally.stored += 1,
                Err(e) => {
                    report(line, &e);
                    tally.rejected += 1;
                }
            }
        }
        tick(&tally);
    }
    tally
}

/// Batches written at once by default: PostgreSQL runs two transactions'
/// inserts side by side (the outbox lock is held only for their last
/// statement), which took a 200,000-offer import from 44-54k to 68-72k rows/s
/// (one writer whose write overlaps the parse: no faster); SQLite has one
/// writer, so a second batch would only wait for it.
fn writers_for(store: &dyn wantloop_store::Store) -> usize {
    match store.backend() {
        wantloop_store::Backend::Postgres => 2,
        wantloop_store::Backend::Sqlite => 1,
    }
}

/// Text that decoding could not read (U+FFFD, the replacement character) was
/// not in the encoding the file was read as: say so, rather than store it.
fn readable(text: &str) -> Result<(), String> {
    match text.contains('\u{FFFD}') {
        true => Err("text: the bytes are not valid in the file's encoding; name it with --encoding (e.g. gbk)".into()),
        false => Ok(()),
    }
}

fn parse_demand(r: DemandRecord) -> Result<NewDemand, String> {
    readable(&r.text)?;
    r.to_input().and_then(|i| i.parse()).map_err(|e| e.to_string())
}

fn parse_offer(r: OfferRecord) -> Result<NewOffer, String> {
    readable(&r.text)?;
    r.to_input().and_then(|i| i.parse()).map_err(|e| e.to_string())
}

pub async fn store_demands(
    engine: &Engine,
    rows: impl Iterator<Item = Row<DemandRecord>>,
    (batch_rows, writers): (usize, Option<usize>),
    report: &dyn Fn(u64, &str),
    tick: &dyn Fn(&Tally),
) -> Tally {
    let store = engine.store();
    import_batches(
        rows,
        batch_rows,
        writers.unwrap_or_else(|| writers_for(store.as_ref())),
        // Classified with the parse, so it too runs while the previous batch is written.
        |r| {
            parse_demand(r).map(|d| {
                let class = engine.classify(&d);
                (d, class)
            })
        },
        |batch: Arc<Vec<(NewDemand, Classification)>>| {
            let store = store.clone();
            async move { store.create_demands(&batch).await.map(|_| ()).map_err(|e| e.to_string()) }
        },
        async |(d, c): &(NewDemand, Classification)| {
            store.create_demand(d, c, None).await.map(|_| ()).map_err(|e| e.to_string())
        },
        report,
        tick,
    )
    .await
}

pub async fn store_offers(
    engine: &Engine,
    rows: impl Iterator<Item = Row<OfferRecord>>,
    (batch_rows, writers): (usize, Option<usize>),
    report: &dyn Fn(u64, &str),
    tick: &dyn Fn(&Tally),
) -> Tally {
    let store = engine.store();
    import_batches(
        rows,
        batch_rows,
        writers.unwrap_or_else(|| writers_for(store.as_ref())),
        parse_offer,
        |batch: Arc<Vec<NewOffer>>| {
            let store = store.clone();
            async move { store.create_offers(&batch).await.map(|_| ()).map_err(|e| e.to_string()) }
        },
        async |o: &NewOffer| store.create_offer(o, None).await.map(|_| ()).map_err(|e| e.to_string()),
        report,
        tick,
    )
    .await
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let kind = match args.kind {
        ImportKind::Faq => return import_faq(args).await,
        ImportKind::Triples => return import_triples(args).await,
        ImportKind::Demands => Kind::Demands,
        ImportKind::Offers => Kind::Offers,
    };
    let format = Format::from_path(&args.file)?;
    let len = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
    let bar = file_progress(len);
    let counted = bar.clone();
    // The file is opened (and its header read) before the store is: a file
    // that cannot be read leaves no database behind.
    let decoded = encoding::open(&args.file, args.encoding.as_deref(), move |f| {
        Box::new(counted.wrap_read(f)) as Box<dyn Read + Send>
    })?;
    let described = decoded.describe();
    let reader = decoded.reader;
    let what = format!("{kind:?}").to_lowercase();
    let started = Instant::now();
    let report = |line: u64, e: &str| bar.suspend(|| eprintln!("line {line}: {e}"));
    let tick = |t: &Tally| {
        let rate = t.stored as f64 / started.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!("{what}: {} stored, {} rejected, {rate:.0} rows/s", t.stored, t.rejected));
    };
    let batching = (args.batch_rows as usize, args.writers.map(|w| w as usize));
    let (tally, engine) = match kind {
        Kind::Demands => {
            let rows = rows::<DemandRecord>(reader, format)?;
            let engine = args.store.open().await?;
            let t = store_demands(&engine, rows, batching, &report, &tick).await;
            (t, engine)
        }
        Kind::Offers => {
            let rows = rows::<OfferRecord>(reader, format)?;
            let engine = args.store.open().await?;
            let t = store_offers(&engine, rows, batching, &report, &tick).await;
            (t, engine)
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    println!(
        "imported {} {what} from {} in {seconds:.1} s ({:.0} rows/s, read as {}), rejected {}",
        tally.stored,
        args.file.display(),
        tally.stored as f64 / seconds.max(1e-9),
        described,
        tally.rejected
    );
    let indexed = Instant::now();
    let applied = engine.catch_up_index().await?;
    if applied > 0 {
        println!("search index: {applied} events applied in {:.1} s", indexed.elapsed().as_secs_f64());
    }
    if tally.rejected > 0 {
        eprintln!("error: {} row(s) of {} were rejected (see the lines above)", tally.rejected, args.file.display());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// One writer (SQLite) and two batches written at once (PostgreSQL).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_that_fails_is_stored_row_by_row_so_only_its_bad_rows_are_rejected() {
        for writers in [1, 2] {
            a_failed_batch_is_stored_row_by_row(writers).await;
        }
    }

    async fn a_failed_batch_is_stored_row_by_row(writers: usize) {
        // Two and a half batches of rows (from line 2): bad input on line 10 and
        // in the third batch; one row of the second batch the store refuses,
        // which fails that whole batch.
        let b = BATCH_ROWS as u64;
        let (bad, refused, rows_in) = (2 * b + 321, b + 501, b * 5 / 2);
        let rows = (2..2 + rows_in).map(|line| match line {
            l if l == 10 || l == bad => (line, Err("budget: must not be negative".to_string())),
            _ => (line, Ok(line)),
        });
        let stored = Arc::new(Mutex::new(Vec::new()));
        let batches = Arc::new(Mutex::new(0));
        let reported = Mutex::new(Vec::new());
        let tally = import_batches(
            rows,
            BATCH_ROWS,
            writers,
            Ok,
            |batch: Arc<Vec<u64>>| {
                let (stored, batches) = (stored.clone(), batches.clone());
                async move {
                    *batches.lock().unwrap() += 1;
                    if batch.contains(&refused) {
                        return Err("a row was refused".into());
                    }
                    stored.lock().unwrap().extend_from_slice(&batch);
                    Ok(())
                }
            },
            async |n: &u64| {
                if *n == refused {
                    return Err("refused by the store".into());
                }
                stored.lock().unwrap().push(*n);
                Ok(())
            },
            &|line, e| reported.lock().unwrap().push((line, e.to_string())),
            &|_| {},
        )
        .await;
        assert_eq!((tally.stored, tally.rejected), (rows_in as usize - 3, 3));
        let reported = reported.into_inner().unwrap();
        let lines: Vec<u64> = reported.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [10, refused, bad]);
        assert!(reported[1].1.contains("refused by the store"));
        let mut stored = stored.lock().unwrap().clone();
        assert_eq!(stored.len(), rows_in as usize - 3);
        if writers == 1 {
            assert!(stored.windows(2).all(|w| w[0] < w[1]), "order kept");
        }
        stored.sort();
        stored.dedup();
        assert_eq!(stored.len(), rows_in as usize - 3, "no row stored twice");
        assert_eq!(*batches.lock().unwrap(), 3, "{rows_in} rows in batches of {BATCH_ROWS}");
    }
}
