//! `wantloop reindex`: rebuilds this node's search index from the store.

use std::process::ExitCode;

use crate::StoreArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArgs,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let engine = args.store.open().await?;
    let dir = args.store.search_dir();
    anyhow::ensure!(
        !engine.index_is_private_copy(),
        "the search index {} is in use by another process (a running `wantloop serve`?); stop it first",
        dir.display()
    );
    let stats = engine.store().stats().await?;
    let total: i64 = stats.offers.values().sum::<i64>() + stats.demands.values().sum::<i64>();
    let bar = super::import::progress(total.max(0) as usize, "indexing");
    let n = engine.rebuild_index(&|n| bar.set_position(n)).await?;
    bar.finish_and_clear();
    println!("indexed {n} offers and demands into {} (cursor {})", dir.display(), engine.index().cursor());
    Ok(ExitCode::SUCCESS)
}
