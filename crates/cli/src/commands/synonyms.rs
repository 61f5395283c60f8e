//! `wantloop synonyms show|set|expand`: the operators' synonym list from the
//! command line, as `PUT /v1/synonyms` sets it (checked line by line, saved
//! as a new version that every node follows).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::StoreArgs;

#[derive(clap::Subcommand)]
pub enum Action {
    /// The list in force: the operators' newest version and how many rules apply.
    Show {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Save FILE (the synonyms-file format: `a, b, c` or `a => b` a line) as a new version.
    Set {
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// The phrases a text is expanded with.
    Expand {
        text: String,
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
        Action::Show { json, store } => {
            let engine = store.open().await?;
            let in_force = engine.synonyms().await?;
            if json {
                println!("{}", serde_json::to_string(&in_force)?);
            } else {
                match &in_force.list {
                    Some(l) => println!(
                        "version {} ({} rules in force, {} bundled)",
                        l.version, in_force.rules, in_force.bundled_rules
                    ),
                    None => println!("no list saved ({} bundled rules in force)", in_force.bundled_rules),
                }
                if let Some(l) = in_force.list {
                    print!("{}", l.rules);
                }
            }
        }
        Action::Set { file, store } => {
            let rules = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let engine = store.open().await?;
            let saved =
                engine.save_synonyms(&rules, Some("cli")).await.with_context(|| format!("{}", file.display()))?;
            println!("saved version {} ({} rules in force)", saved.version, engine.synonyms().await?.rules);
        }
        Action::Expand { text, store } => {
            let engine = store.open().await?;
            for phrase in engine.synonym_expansions(&text) {
                println!("{phrase}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
