//! `wantloop simulate`: the loop replayed on logged ratings (MovieLens's
//! files in the layout of any release), every arm side by side; see
//! `wantloop_eval::simulate`.

use std::path::PathBuf;
use std::process::ExitCode;

use wantloop_eval::simulate::{self, Options};

#[derive(clap::Args)]
pub struct Args {
    /// Ratings: `user<TAB>item<TAB>rating<TAB>unix time` (MovieLens-100K `u.data`), `user::item::rating::time`
    /// (1M, 10M `ratings.dat`) or `userId,movieId,rating,timestamp` (latest, 25M `ratings.csv`).
    #[arg(long)]
    ratings: PathBuf,
    /// Titles: `id|title|date|video date|url|genre flags` (MovieLens-100K `u.item`), `id::title::G1|G2`
    /// (`movies.dat`) or `movieId,title,genres` (`movies.csv`).
    #[arg(long)]
    items: PathBuf,
    /// Rounds after the warm-up half.
    #[arg(long, default_value_t = 10)]
    rounds: usize,
    /// First seed; seeds S, S+1, … each replay a different 80% of the people.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// How many seeds (at most 100).
    #[arg(long, default_value_t = 5)]
    seeds: usize,
    /// Proposals per demand (acceptance@k).
    #[arg(long, default_value_t = 1)]
    k: usize,
    /// Copies of each title in the exact-versus-greedy allocation.
    #[arg(long, default_value_t = 2)]
    copies: u32,
    /// Print the whole report as one JSON object (else a table per round).
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let options = Options { rounds: a.rounds, seed: a.seed, seeds: a.seeds, k: a.k, copies: a.copies };
    let out = simulate::run(&a.ratings, &a.items, &options)?;
    if a.json {
        println!("{out}");
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} (acceptance@{}, mean of {} seeds)", out["label"].as_str().unwrap_or_default(), a.k, a.seeds);
    println!("round  base   v1     frozen frozen-model retrained random upper  exact/greedy satisfied");
    for r in out["per_round"].as_array().into_iter().flatten() {
        let acc = |arm: &str| r["acceptance"][arm].as_f64().unwrap_or_default();
        println!(
            "{:>5}  {:.3}  {:.3}  {:.3}  {:.3}        {:.3}     {:.3}  {:.3}  {:.0}/{:.0}",
            r["round"],
            r["base_rate"].as_f64().unwrap_or_default(),
            acc("v1"),
            acc("frozen"),
            acc("frozen_model"),
            acc("retrained"),
            acc("random"),
            acc("upper_bound"),
            r["exact_satisfied"].as_f64().unwrap_or_default(),
            r["greedy_satisfied"].as_f64().unwrap_or_default(),
        );
    }
    Ok(ExitCode::SUCCESS)
}
