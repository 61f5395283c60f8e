//! `wantloop ask QUESTION`: the assistant of `POST /v1/ask` from the command
//! line; prints the answer and its source, or the refusal and the closest
//! questions (one JSON object with --json).

use std::process::ExitCode;

use crate::StoreArgs;

#[derive(clap::Args)]
pub struct Args {
    question: String,
    /// zh or en (default: detected).
    #[arg(long)]
    lang: Option<String>,
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArgs,
}

pub async fn run(a: Args) -> anyhow::Result<ExitCode> {
    let engine = a.store.open().await?;
    let answer = engine.ask(&a.question, a.lang.as_deref()).await?;
    if a.json {
        println!("{}", serde_json::to_string(&answer)?);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(read) = &answer.corrected {
        println!("(read as: {read})");
    }
    println!("{}", answer.answer);
    match &answer.source {
        Some(wantloop_engine::ask::AnswerSource::Faq { key, question, .. }) => {
            println!("  (FAQ {key}: \"{question}\"; confidence {:.2}, {})", answer.confidence, answer.scorer)
        }
        Some(wantloop_engine::ask::AnswerSource::Graph { query, .. }) => println!("  (market graph: {query})"),
        None => println!("  (confidence {:.2} below {:.2}, {})", answer.confidence, answer.threshold, answer.scorer),
    }
    for s in &answer.alternatives {
        println!("  see also: {} ({:.2})", s.question, s.confidence);
    }
    Ok(ExitCode::SUCCESS)
}
