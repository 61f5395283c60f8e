//! The problem and answer types shared by every solver.
//!
//! Kept free of algorithmic code so that the solvers, the file loader and the
//! callers (CLI, server) agree on one plain-data representation. Validation
//! lives here because every solver relies on the same invariants.

use crate::AllocError;

/// A feasible pairing of a demand with an offer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Edge {
    /// Index into `Instance::demand_qty`.
    pub demand: u32,
    /// Index into `Instance::offer_cap`.
    pub offer: u32,
    /// Value of one unit sent over this edge; higher is better. Edges with
    /// `score <= 0` are never used by any solver.
    pub score: f64,
}

/// A batch allocation problem.
///
/// Several edges may connect the same (demand, offer) pair; they are treated
/// as independent parallel edges (each bounded only by the demand quantity
/// and the offer capacity), which is what a caller merging candidate lists
/// from several sources expects. Both solvers handle them correctly.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Instance {
    /// Maximum units each demand wants.
    pub demand_qty: Vec<u32>,
    /// Maximum units each offer can give.
    pub offer_cap: Vec<u32>,
    /// Feasible pairs with their per-unit score.
    pub edges: Vec<Edge>,
}

impl Instance {
    /// Checks that every edge refers to an existing demand and offer, that
    /// every score is finite and that the sizes fit the solvers' `u32`
    /// indices. Duplicate (demand, offer) pairs are allowed (see [`Instance`]).
    pub fn validate(&self) -> Result<(), AllocError> {
        // Node count of the flow network is demands + offers + 1 and must fit
        // in u32 with room to spare; edges are indexed with u32 as well.
        let limit = (u32::MAX / 2) as usize;
        if self.demand_qty.len() + self.offer_cap.len() >= limit {
            return Err(AllocError::TooLarge {
                what: format!("{} demands + {} offers", self.demand_qty.len(), self.offer_cap.len()),
            });
        }
        if self.edges.len() >= limit {
            return Err(AllocError::TooLarge { what: format!("{} edges", self.edges.len()) });
        }
        for (i, e) in self.edges.iter().enumerate() {
            if e.demand as usize >= self.demand_qty.len() {
                return Err(AllocError::DemandOutOfRange { edge: i, demand: e.demand, demands: self.demand_qty.len() });
            }
            if e.offer as usize >= self.offer_cap.len() {
                return Err(AllocError::OfferOutOfRange { edge: i, offer: e.offer, offers: self.offer_cap.len() });
            }
            if !e.score.is_finite() {
                return Err(AllocError::NonFiniteScore { edge: i, score: e.score });
            }
        }
        Ok(())
    }

    /// Checks that `sol` is a feasible allocation for this instance: edge
    /// indices valid and distinct, units positive, quantities and capacities
    /// respected, and `units`/`objective` consistent with `flows`. Returns a
    /// description of the first violation. Meant for tests and debugging;
    /// solvers never produce an infeasible solution.
    pub fn check_solution(&self, sol: &Solution) -> Result<(), String> {
        let mut used_d = vec![0u64; self.demand_qty.len()];
        let mut used_o = vec![0u64; self.offer_cap.len()];
        let mut seen = vec![false; self.edges.len()];
        let mut units = 0u64;
        let mut objective = 0.0f64;
        for &(e, x) in &sol.flows {
            let Some(edge) = self.edges.get(e) else {
                return Err(format!("flow on unknown edge {e}"));
            };
            if std::mem::replace(&mut seen[e], true) {
                return Err(format!("edge {e} listed twice"));
            }
            if x == 0 {
                return Err(format!("edge {e} has zero units"));
            }
            used_d[edge.demand as usize] += u64::from(x);
            used_o[edge.offer as usize] += u64::from(x);
            units += u64::from(x);
            objective += edge.score * f64::from(x);
        }
        for (d, (&u, &q)) in used_d.iter().zip(&self.demand_qty).enumerate() {
            if u > u64::from(q) {
                return Err(format!("demand {d} gets {u} > quantity {q}"));
            }
        }
        for (o, (&u, &c)) in used_o.iter().zip(&self.offer_cap).enumerate() {
            if u > u64::from(c) {
                return Err(format!("offer {o} gives {u} > capacity {c}"));
            }
        }
        if units != sol.units {
            return Err(format!("units {} but flows sum to {units}", sol.units));
        }
        let tol = 1e-9 * objective.abs().max(1.0);
        if (objective - sol.objective).abs() > tol {
            return Err(format!("objective {} but flows give {objective}", sol.objective));
        }
        Ok(())
    }
}

/// An integral allocation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Solution {
    /// `(edge index, units)` for every edge carrying at least one unit, in
    /// increasing edge index order.
    pub flows: Vec<(usize, u32)>,
    /// Σ `edges[e].score * units` over `flows`, using the original f64 scores.
    pub objective: f64,
    /// Total units allocated.
    pub units: u64,
}

impl Solution {
    /// Builds a solution from per-edge units (zeros are skipped), computing
    /// `objective` and `units` from the instance's original scores.
    pub(crate) fn from_units(inst: &Instance, units_per_edge: &[u32]) -> Solution {
        let mut sol = Solution::default();
        for (e, &x) in units_per_edge.iter().enumerate() {
            if x > 0 {
                sol.flows.push((e, x));
                sol.units += u64::from(x);
                sol.objective += inst.edges[e].score * f64::from(x);
            }
        }
        sol
    }
}
