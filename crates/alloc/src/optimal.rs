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
