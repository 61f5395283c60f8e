//! Entry points of the exact solver.
//!
//! A thin layer between the public API and the algorithm: validate, build
//! the network, run cost scaling, translate arc flows back to edge units.

use crate::cost_scaling::{SolveStats, Solver};
use crate::network::Network;
use crate::{AllocError, Instance, Solution};

/// Maximum-score allocation (exact for the integer costs described at
/// [`crate::SCORE_SCALE`]). Never uses edges with `score <= 0`.
pub fn solve_optimal(inst: &Instance) -> Result<Solution, AllocError> {
    solve_optimal_with_stats(inst).map(|(sol, _)| sol)
}

/// Like [`solve_optimal`], also returning the solver's operation counters.
pub fn solve_optimal_with_stats(inst: &Instance) -> Result<(Solution, SolveStats), AllocError> {
    inst.validate()?;
    let net = Network::build(inst)?;
    let mut solver = Solver::new(net);
    solver.run();
    let stats = solver.stats;
    let net = solver.into_network();
    let units = net.edge_units(inst.edges.len());
    Ok((Solution::from_units(inst, &units), stats))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Edge;
    use rand::{Rng, SeedableRng};

    fn solve(inst: &Instance, early_proof: bool) -> (Solution, SolveStats) {
        let mut solver = Solver::new(Network::build(inst).unwrap());
        solver.early_proof = early_proof;
        solver.run();
        let stats = solver.stats;
        let units = solver.into_network().edge_units(inst.edges.len());
        (Solution::from_units(inst, &units), stats)
    }

    /// Refining all the way to ε = 1 and stopping at the early optimality
    /// proof must give the same optimum; across these contested instances
    /// the sink, global updates and the proof must all be exercised.
    #[test]
    fn early_proof_agrees_with_full_refinement() {
        let mut totals = SolveStats::default();
        let mut proved = 0;
        for seed in 0..40u64 {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let nd = rng.random_range(50..400);
            let no = rng.random_range(10..200);
            let inst = Instance {
                demand_qty: (0..nd).map(|_| rng.random_range(1..=3)).collect(),
                offer_cap: (0..no).map(|_| rng.random_range(1..=10)).collect(),
                edges: (0..nd * 10)
                    .map(|i| {
                        let u: f64 = rng.random();
                        Edge {
                            demand: (i / 10) as u32,
                            offer: ((u * u * u) * no as f64) as u32,
                            score: f64::from(rng.random_range(1..=1_000_000u32)) / 1e6,
                        }
                    })
                    .collect(),
            };
            let (full, st_full) = solve(&inst, false);
            let (early, st_early) = solve(&inst, true);
            inst.check_solution(&full).unwrap();
            inst.check_solution(&early).unwrap();
            assert!(
                (full.objective - early.objective).abs() < 1e-6,
                "seed {seed}: {} vs {}",
                full.objective,
                early.objective
            );
            assert!(!st_full.proved_early);
            proved += usize::from(st_early.proved_early);
            totals.sink_relabels += st_full.sink_relabels;
            totals.price_updates += st_full.price_updates;
        }
        assert!(proved > 0, "early proof never succeeded");
        assert!(totals.sink_relabels > 0, "sink never relabelled");
        assert!(totals.price_updates > 0, "no global price update");
    }
}
