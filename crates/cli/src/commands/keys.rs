//! `wantloop keys create|list|revoke`: API keys, straight on the store (the
//! server need not run). A new key is printed once, alone on stdout, so that
//! `KEY=$(wantloop keys create …)` captures it; only its hash is kept.

use std::process::ExitCode;

use wantloop_core::KeyInput;
use wantloop_store::{SqlStore, Store};

use crate::StoreArgs;

#[derive(clap::Subcommand)]
pub enum Action {
    /// Make a key and print it (once: only its hash is stored).
    Create {
        /// admin, service, provider or user.
        #[arg(long)]
        role: String,
        /// The party a user or provider key acts for.
        #[arg(long)]
        party: Option<String>,
        /// Who holds the key, or what for.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Every key (never its secret), oldest first.
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a key: running servers refuse it within 5 s.
    Revoke {
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

async fn connect(store: &StoreArgs) -> anyhow::Result<SqlStore> {
    let url = store.url()?;
    SqlStore::connect(&url).await.map_err(|e| anyhow::anyhow!("cannot open the store: {e}"))
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.action {
        Action::Create { role, party, name, store } => {
            let new = KeyInput { role, party, name }.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
            let (key, token) = connect(&store).await?.create_key(&new).await?;
            let party = key.party.as_deref().map(|p| format!(" for {p:?}")).unwrap_or_default();
            eprintln!("created {} key {}{party}; it is shown once, keep it now:", key.role.as_str(), key.id);
            println!("{token}");
        }
        Action::List { json, store } => {
            let keys = connect(&store).await?.list_keys().await?;
            if json {
                println!("{}", serde_json::to_string(&keys)?);
            } else {
                println!("{:>4}  {:<8} {:<20} {:<8} name", "id", "role", "party", "state");
                for k in keys {
                    let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
                    let party = k.party.as_deref().unwrap_or("-");
                    println!("{:>4}  {:<8} {:<20} {:<8} {}", k.id, k.role.as_str(), party, state, k.name);
                }
            }
        }
        Action::Revoke { id, store } => {
            let key = connect(&store).await?.revoke_key(id).await?;
            println!("revoked {} key {}", key.role.as_str(), key.id);
        }
    }
    Ok(ExitCode::SUCCESS)
}
