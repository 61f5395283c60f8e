//! `wantloop reindex [--images]`: rebuilds this node's search index from the
//! store; with `--images`, first gives stored images made by other visual
//! features (before `models install image`) vectors of this node's.

use std::process::ExitCode;

use crate::StoreArgs;

#[derive(clap::Args)]
pub struct Args {
    /// Also re-vectorise stored images made by other visual features (after
    /// `wantloop models install image`), so search and matching by image see them.
    #[arg(long)]
    images: bool,
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
    if args.images {
        let bar = indicatif::ProgressBar::new_spinner();
        let report =
            engine.revectorise_images(&|n| bar.set_message(format!("re-vectorising images: {n} looked at"))).await?;
        bar.finish_and_clear();
        println!(
            "re-vectorised {} of {} images with {}{}",
            report.revectored,
            report.checked,
            engine.visual_index().await?.features(),
            match report.failed {
                0 => String::new(),
                n => format!(" ({n} no longer decode and keep their old vectors)"),
            }
        );
    }
    let stats = engine.store().stats().await?;
    let total: i64 = stats.offers.values().sum::<i64>() + stats.demands.values().sum::<i64>();
    let bar = super::import::progress(total.max(0) as usize, "indexing");
    let n = engine.rebuild_index(&|n| bar.set_position(n)).await?;
    bar.finish_and_clear();
    println!("indexed {n} offers and demands into {} (cursor {})", dir.display(), engine.index().cursor());
    Ok(ExitCode::SUCCESS)
}
