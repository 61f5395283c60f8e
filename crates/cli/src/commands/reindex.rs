//! `wantloop reindex`: rebuilds this node's search index from the store.

use std::path::PathBuf;
use std::process::ExitCode;

use wantloop_search::SearchIndex;
use wantloop_store::{SqlStore, Store};

use crate::StoreArgs;

#[derive(clap::Args)]
pub struct Args {
    /// Folder of the search index (default: DATA_DIR/search).
    #[arg(long, env = "WANTLOOP_SEARCH_DIR")]
    search_dir: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let store = SqlStore::connect(&args.store.url()?).await?;
    let dir = args.search_dir.unwrap_or_else(|| args.store.data_dir.join("search"));
    let index = SearchIndex::open_or_create(&dir)?;
    let stats = store.stats().await?;
    let total: i64 = stats.offers.values().sum::<i64>() + stats.demands.values().sum::<i64>();
    let bar = super::import::progress(total.max(0) as usize, "indexing");
    let n = wantloop_server::indexer::rebuild(&store, &index, &|n| bar.set_position(n)).await?;
    bar.finish_and_clear();
    println!("indexed {n} offers and demands into {} (cursor {})", dir.display(), index.cursor());
    Ok(ExitCode::SUCCESS)
}
