//! Greedy allocation: a fast, simple baseline.
//!
//! Exists so callers can compare against (or fall back to) the obvious
//! heuristic, and so tests can check the exact solver is never worse. Edges
//! are taken in descending score order (ties by edge index, so the result is
//! deterministic), each getting as many units as both endpoints still allow.

use crate::{AllocError, Instance, Solution};

/// Greedy allocation: edges by descending score, each takes
/// `min(remaining quantity, remaining capacity)`. Edges with `score <= 0` are
/// skipped. Not optimal in general (see `solve_optimal`).
pub fn solve_greedy(inst: &Instance) -> Result<Solution, AllocError> {
    inst.validate()?;
    let mut order: Vec<u32> = (0..inst.edges.len() as u32).filter(|&e| inst.edges[e as usize].score > 0.0).collect();
    order.sort_unstable_by(|&a, &b| {
        let (ea, eb) = (&inst.edges[a as usize], &inst.edges[b as usize]);
        eb.score.total_cmp(&ea.score).then(a.cmp(&b))
    });
    let mut rem_q = inst.demand_qty.clone();
    let mut rem_c = inst.offer_cap.clone();
    let mut units = vec![0u32; inst.edges.len()];
    for e in order {
        let edge = &inst.edges[e as usize];
        let (d, o) = (edge.demand as usize, edge.offer as usize);
        let x = rem_q[d].min(rem_c[o]);
        if x > 0 {
            rem_q[d] -= x;
            rem_c[o] -= x;
            units[e as usize] += x;
        }
    }
    Ok(Solution::from_units(inst, &units))
}
