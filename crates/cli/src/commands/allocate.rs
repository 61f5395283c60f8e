//! `wantloop allocate`: the global optimum over all open demands in the store,
//! or, with `--demands/--offers/--edges`, over an instance in files (for
//! benchmarks and for checking optimality against other solvers).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use serde_json::json;
use wantloop_match::Mode;

use crate::StoreArgs;

#[derive(clap::Args)]
pub struct Args {
    /// Best edges first instead of the exact optimum (for comparison).
    #[arg(long)]
    greedy: bool,
    /// Report what would be allocated (with --json, every planned pair); write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Instance file `demand_id,quantity` (with --offers and --edges).
    #[arg(long, requires_all = ["offers", "edges"])]
    demands: Option<PathBuf>,
    /// Instance file `offer_id,capacity`.
    #[arg(long, requires_all = ["demands", "edges"])]
    offers: Option<PathBuf>,
    /// Instance file `demand_id,offer_id,score`.
    #[arg(long, requires_all = ["demands", "offers"])]
    edges: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mode = if args.greedy { Mode::Greedy } else { Mode::Optimal };
    if let (Some(d), Some(o), Some(e)) = (&args.demands, &args.offers, &args.edges) {
        let started = Instant::now();
        let loaded = wantloop_alloc::files::load(d, o, e).context("cannot load the instance")?;
        let load_seconds = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let solution = match mode {
            Mode::Optimal => wantloop_alloc::solve_optimal(&loaded.instance),
            Mode::Greedy => wantloop_alloc::solve_greedy(&loaded.instance),
        }?;
        let seconds = started.elapsed().as_secs_f64();
        let report = json!({
            "mode": if args.greedy { "greedy" } else { "optimal" },
            "objective": solution.objective,
            "units": solution.units,
            "seconds": seconds,
            "load_seconds": load_seconds,
            "demands": loaded.instance.demand_qty.len(),
            "offers": loaded.instance.offer_cap.len(),
            "edges": loaded.instance.edges.len(),
        });
        if args.json {
            println!("{report}");
        } else {
            println!(
                "{} allocation: objective {:.6}, {} units over {} edges, solved in {seconds:.3} s (loaded in {load_seconds:.3} s)",
                report["mode"].as_str().unwrap_or_default(),
                solution.objective,
                solution.units,
                loaded.instance.edges.len()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let engine = args.store.open().await?;
    let report = engine.allocate(mode, args.dry_run).await?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{} allocation{}: {} open demands, {} offers, {} edges → {} units (objective {:.3}); proposed {} matches / {} units, {} skipped; solve {:.3} s, total {:.3} s",
            report.mode,
            if report.dry_run { " (dry run)" } else { "" },
            report.demands,
            report.offers,
            report.edges,
            report.planned_units,
            report.objective,
            report.proposed_matches,
            report.proposed_units,
            report.skipped,
            report.solve_seconds,
            report.total_seconds
        );
    }
    Ok(ExitCode::SUCCESS)
}
