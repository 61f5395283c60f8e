//! Exact allocation by cost-scaling push-relabel (Goldberg & Tarjan), tuned
//! for the bipartite allocation network of [`crate::network`].
//!
//! Why this algorithm: successive shortest paths needs one shortest-path
//! computation per augmentation (hundreds of thousands on realistic batches)
//! and is far too slow; cost scaling does `O(log(n C))` refinements, each of
//! which only moves flow locally, and with global price updates it is the
//! fastest general method on large sparse networks (it is what OR-Tools'
//! `SimpleMinCostFlow` uses). We beat a generic implementation by exploiting
//! the structure and by stopping early:
//!
//! * a demand's arcs are its candidate offers plus one disposal arc, stored
//!   contiguously (cost, head, residual in 16 bytes);
//! * an offer's only residual outgoing arcs are to the sink and back to the
//!   demands currently sending it flow; those arcs are kept as a prefix of
//!   the offer's in-arc list, so relabelling a popular offer costs
//!   `O(units held)` instead of `O(candidates)`;
//! * there is no source node (demands carry their supply), so the only hub
//!   is the sink, which keeps a current-arc pointer and is rarely active;
//! * demands start priced at their best arc, so the first refinement bids
//!   only on good offers instead of flooding every candidate;
//! * push look-ahead: before a demand pushes to an offer that could only
//!   bounce the unit back, the offer is relabelled;
//! * global price updates (bucket Dijkstra from the deficits) every
//!   `2 * nodes` relabels and at the start of each refinement;
//! * early termination: once ε is down to about one unit of the integer
//!   costs, a label-correcting search tries to prove the flow optimal (see
//!   `Solver::prove_optimal`); it usually succeeds, saving the last
//!   refinements;
//! * the FIFO of active nodes and the update buckets tell us which node
//!   comes next, so its arcs are prefetched while the current one is being
//!   processed (the solver is bound by cache misses on the arc arrays).
//!
//! Reduced cost of a residual arc `u -> v` is `c(u, v) + p(u) - p(v)`; a flow
//! is ε-optimal if every residual arc has reduced cost `>= -ε`; costs are
//! multiplied by `nodes + 1`, so the flow is optimal once ε reaches 1.
//! Prices only ever decrease.

use crate::network::{DArc, Network, OArc};

/// Divisor of ε between refinements.
const ALPHA: i64 = 5;
/// The first refinement runs at `max_cost / (INITIAL_EPS_DIVISOR * ALPHA)`.
const INITIAL_EPS_DIVISOR: i64 = 10;
/// A global price update runs after `UPDATE_FACTOR * nodes` relabels.
const UPDATE_FACTOR: u64 = 2;
/// Try to prove optimality (and stop) after each refinement with
/// `ε <= PROOF_BELOW * cost_mult`, i.e. ε at most `PROOF_BELOW` units of the
/// integer costs: by then the flow is usually already optimal.
const PROOF_BELOW: i64 = 2;

/// Counters describing one solve (for benchmarking and tuning).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SolveStats {
    /// Number of refinements (ε phases).
    pub refines: u32,
    /// Push operations.
    pub pushes: u64,
    /// Relabel operations (all nodes).
    pub relabels: u64,
    /// Relabel operations of the sink.
    pub sink_relabels: u64,
    /// Global price updates.
    pub price_updates: u32,
    /// Whether the run stopped early because the optimality proof succeeded.
    pub proved_early: bool,
}

const NONE: u32 = u32::MAX;

/// Software prefetch of the cache line holding `p` (no-op off x86-64).
/// Prefetching never faults, so any address is fine.
#[inline(always)]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` is a hint; it has no architectural effect and
    // cannot fault, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Asks the CPU to start loading the arc data that processing node `v`
/// (demands `0..nd`, offers `nd..nd + no`) will read first: its demand-side
/// arcs, or its offer-side positive-flow prefix (`whole_offer`: the first
/// lines of all its in-arcs, for global updates). The solver is bound by
/// cache misses on the arc arrays, and both the FIFO and the update buckets
/// tell us the next node a whole step in advance.
#[inline]
fn prefetch_node(net: &Network, v: usize, whole_offer: bool) {
    const LINES: usize = 8;
    if v < net.nd {
        let (s, e) = (net.d_start[v] as usize, net.d_start[v + 1] as usize);
        // Four 16-byte arcs per 64-byte line.
        for a in (s..e).step_by(4).take(LINES) {
            prefetch(net.arcs.as_ptr().wrapping_add(a));
        }
        prefetch(net.opos.as_ptr().wrapping_add(s));
    } else if v < net.nd + net.no {
        let o = v - net.nd;
        let s = net.o_start[o] as usize;
        let e = if whole_offer { net.o_start[o + 1] as usize } else { s + net.o_nflow[o] as usize };
        for j in (s..e.max(s + 1)).step_by(4).take(LINES) {
            prefetch(net.o_side.as_ptr().wrapping_add(j));
        }
    }
}

pub(crate) struct Solver {
    net: Network,
    dprice: Vec<i64>,
    oprice: Vec<i64>,
    tprice: i64,
    dex: Vec<i64>,
    oex: Vec<i64>,
    tex: i64,
    /// Disposal flow `d -> t` and offer flow `o -> t`.
    y: Vec<u32>,
    z: Vec<u32>,
    /// FIFO of active nodes: demands `0..nd`, offers `nd..nd + no`, sink.
    queue: std::collections::VecDeque<u32>,
    /// Scratch for global updates.
    dist: Vec<u32>,
    buckets: Vec<Vec<u32>>,
    relabels_since_update: u64,
    /// Current-arc pointer of the sink (see `discharge_sink`).
    t_cur: usize,
    /// `nodes + 1`: the factor costs were multiplied by.
    cost_mult: i64,
    update_every: u64,
    /// Whether to try the early optimality proof (tests turn it off to
    /// exercise refinements down to ε = 1).
    pub early_proof: bool,
    pub stats: SolveStats,
}

impl Solver {
    pub fn new(net: Network) -> Solver {
        let (nd, no) = (net.nd, net.no);
        let dex = net.qty.iter().map(|&q| i64::from(q)).collect::<Vec<_>>();
        let tex = -dex.iter().sum::<i64>();
        // Start each demand at its best arc's value: the zero flow is then
        // 0-optimal, so the first refinement saturates nothing and demands
        // only bid on their best offers (instead of flooding every
        // candidate, which is what zero prices would do).
        let dprice = (0..nd)
            .map(|d| {
                let (s, e) = (net.d_start[d] as usize, net.d_start[d + 1] as usize);
                net.arcs[s..e].iter().map(|a| -a.cost).max().unwrap_or(0).max(0)
            })
            .collect::<Vec<_>>();
        let nodes = nd + no + 1;
        Solver {
            dprice,
            oprice: vec![0; no],
            tprice: 0,
            dex,
            oex: vec![0; no],
            tex,
            y: vec![0; nd],
            z: vec![0; no],
            queue: std::collections::VecDeque::with_capacity(nodes),
            dist: vec![NONE; nodes],
            buckets: Vec::new(),
            relabels_since_update: 0,
            t_cur: 0,
            cost_mult: net.cost_mult,
            update_every: UPDATE_FACTOR * nodes as u64,
            early_proof: true,
            stats: SolveStats::default(),
            net,
        }
    }

    pub fn into_network(self) -> Network {
        self.net
    }

    /// Runs refinements until the flow is optimal.
    pub fn run(&mut self) {
        // Demands start at their best arc's value (see `new`), so the first
        // refinement does not need ε anywhere near the largest cost.
        let mut eps = (self.net.max_cost / INITIAL_EPS_DIVISOR).max(1);
        loop {
            eps = (eps / ALPHA).max(1);
            self.refine(eps);
            if eps == 1 {
                break;
            }
            if self.early_proof && eps <= PROOF_BELOW * self.cost_mult && self.prove_optimal() {
                self.stats.proved_early = true;
                break;
            }
        }
    }

    fn sink(&self) -> u32 {
        (self.net.nd + self.net.no) as u32
    }

    #[inline]
    fn activate_demand(&mut self, d: usize, before: i64) {
        if before <= 0 && self.dex[d] > 0 {
            self.queue.push_back(d as u32);
        }
    }

    #[inline]
    fn activate_offer(&mut self, o: usize, before: i64) {
        if before <= 0 && self.oex[o] > 0 {
            self.queue.push_back((self.net.nd + o) as u32);
        }
    }

    #[inline]
    fn activate_sink(&mut self, before: i64) {
        if before <= 0 && self.tex > 0 {
            let t = self.sink();
            self.queue.push_back(t);
        }
    }

    fn refine(&mut self, eps: i64) {
        self.stats.refines += 1;
        self.t_cur = 0;
        self.saturate_violations(eps);
        let (nd, no) = (self.net.nd, self.net.no);
        self.queue.clear();
        for d in 0..nd {
            if self.dex[d] > 0 {
                self.queue.push_back(d as u32);
            }
        }
        for o in 0..no {
            if self.oex[o] > 0 {
                self.queue.push_back((nd + o) as u32);
            }
        }
        if self.tex > 0 {
            let t = self.sink();
            self.queue.push_back(t);
        }
        if self.queue.is_empty() {
            return;
        }
        self.global_update(eps);
        while let Some(v) = self.queue.pop_front() {
            let v = v as usize;
            if let Some(&next) = self.queue.front() {
                prefetch_node(&self.net, next as usize, false);
            }
            if v < nd {
                self.discharge_demand(v, eps);
            } else if v < nd + no {
                self.discharge_offer(v - nd, eps);
            } else {
                self.discharge_sink(eps);
            }
            if self.relabels_since_update >= self.update_every {
                self.global_update(eps);
            }
        }
    }

    /// Makes the current flow ε-optimal by saturating every residual arc
    /// whose reduced cost is below `-eps` (creating excesses and deficits).
    #[inline(never)]
    fn saturate_violations(&mut self, eps: i64) {
        let Solver { net, dprice, oprice, tprice, dex, oex, tex, y, z, .. } = self;
        let pt = *tprice;
        for d in 0..net.nd {
            let pd = dprice[d];
            let (s, e) = (net.d_start[d] as usize, net.d_start[d + 1] as usize);
            for a in s..e {
                let DArc { cost, offer, resid } = net.arcs[a];
                let o = offer as usize;
                let rc = cost + pd - oprice[o];
                let cap = net.cap[a];
                if rc < -eps && resid > 0 {
                    dex[d] -= i64::from(resid);
                    oex[o] += i64::from(resid);
                    net.add_flow(a, resid);
                } else if rc > eps && resid < cap {
                    let flow = cap - resid;
                    dex[d] += i64::from(flow);
                    oex[o] -= i64::from(flow);
                    let j = net.opos[a] as usize;
                    net.remove_flow_at(o, j, flow);
                }
            }
            let rc = pd - pt;
            let q = net.qty[d];
            if rc < -eps && y[d] < q {
                let delta = i64::from(q - y[d]);
                dex[d] -= delta;
                *tex += delta;
                y[d] = q;
            } else if rc > eps && y[d] > 0 {
                let delta = i64::from(y[d]);
                dex[d] += delta;
                *tex -= delta;
                y[d] = 0;
            }
        }
        for o in 0..net.no {
            let rc = oprice[o] - pt;
            let c = net.capo[o];
            if rc < -eps && z[o] < c {
                let delta = i64::from(c - z[o]);
                oex[o] -= delta;
                *tex += delta;
                z[o] = c;
            } else if rc > eps && z[o] > 0 {
                let delta = i64::from(z[o]);
                oex[o] += delta;
                *tex -= delta;
                z[o] = 0;
            }
        }
    }

    #[inline(never)]
    fn discharge_demand(&mut self, d: usize, eps: i64) {
        let (s, e) = (self.net.d_start[d] as usize, self.net.d_start[d + 1] as usize);
        loop {
            let pd = self.dprice[d];
            let mut ex = self.dex[d];
            if ex <= 0 {
                return;
            }
            let mut best = i64::MIN;
            for a in s..e {
                let DArc { cost, offer, resid } = self.net.arcs[a];
                if resid == 0 {
                    continue;
                }
                let o = offer as usize;
                let mut po = self.oprice[o];
                if cost + pd - po < 0 {
                    // Push look-ahead: an offer that could only bounce the
                    // unit back is relabelled first, which may make this arc
                    // inadmissible and saves a push there and back.
                    po = self.look_ahead_offer(o, eps);
                }
                if cost + pd - po < 0 {
                    let delta = ex.min(i64::from(resid)) as u32;
                    self.net.add_flow(a, delta);
                    let before = self.oex[o];
                    self.oex[o] += i64::from(delta);
                    self.activate_offer(o, before);
                    self.stats.pushes += 1;
                    ex -= i64::from(delta);
                    if ex == 0 {
                        break;
                    }
                    if delta == resid {
                        continue; // saturated: no longer residual
                    }
                }
                if po - cost > best {
                    best = po - cost;
                }
            }
            if ex > 0 {
                // Disposal arc: its residual capacity q - y is at least ex.
                let pt = self.tprice;
                if pd - pt < 0 {
                    self.y[d] += ex as u32;
                    let before = self.tex;
                    self.tex += ex;
                    self.activate_sink(before);
                    self.stats.pushes += 1;
                    ex = 0;
                } else if pt > best {
                    best = pt;
                }
            }
            self.dex[d] = ex;
            if ex == 0 {
                return;
            }
            self.dprice[d] = best - eps;
            self.stats.relabels += 1;
            self.relabels_since_update += 1;
        }
    }

    /// Returns offer `o`'s price after making sure it has an admissible
    /// outgoing arc or a deficit, relabelling it if it has neither.
    #[inline]
    fn look_ahead_offer(&mut self, o: usize, eps: i64) -> i64 {
        let po = self.oprice[o];
        if self.oex[o] < 0 {
            return po;
        }
        let mut best = i64::MIN;
        if self.z[o] < self.net.capo[o] {
            if po < self.tprice {
                return po;
            }
            best = self.tprice;
        }
        let start = self.net.o_start[o] as usize;
        let end = start + self.net.o_nflow[o] as usize;
        for oa in &self.net.o_side[start..end] {
            let val = self.dprice[oa.tail as usize] + oa.cost;
            if val > po {
                return po;
            }
            best = best.max(val);
        }
        if best == i64::MIN {
            return po;
        }
        let np = best - eps;
        self.oprice[o] = np;
        self.stats.relabels += 1;
        self.relabels_since_update += 1;
        np
    }

    #[inline(never)]
    fn discharge_offer(&mut self, o: usize, eps: i64) {
        loop {
            let po = self.oprice[o];
            let mut ex = self.oex[o];
            if ex <= 0 {
                return;
            }
            let mut best = i64::MIN;
            let c = self.net.capo[o];
            if self.z[o] < c {
                let pt = self.tprice;
                if po - pt < 0 {
                    let delta = ex.min(i64::from(c - self.z[o]));
                    self.z[o] += delta as u32;
                    let before = self.tex;
                    self.tex += delta;
                    self.activate_sink(before);
                    self.stats.pushes += 1;
                    ex -= delta;
                }
                if self.z[o] < c && pt > best {
                    best = pt;
                }
            }
            if ex > 0 {
                let start = self.net.o_start[o] as usize;
                let mut j = start;
                while j < start + self.net.o_nflow[o] as usize {
                    let OArc { cost, tail, flow } = self.net.o_side[j];
                    let d = tail as usize;
                    let pd = self.dprice[d];
                    let val = pd + cost;
                    if po - val < 0 {
                        let delta = ex.min(i64::from(flow)) as u32;
                        let before = self.dex[d];
                        self.dex[d] += i64::from(delta);
                        self.activate_demand(d, before);
                        self.stats.pushes += 1;
                        ex -= i64::from(delta);
                        if self.net.remove_flow_at(o, j, delta) {
                            if ex == 0 {
                                break;
                            }
                            continue; // a new arc was swapped into slot j
                        }
                        if ex == 0 {
                            break;
                        }
                    }
                    if val > best {
                        best = val;
                    }
                    j += 1;
                }
            }
            self.oex[o] = ex;
            if ex == 0 {
                return;
            }
            self.oprice[o] = best - eps;
            self.stats.relabels += 1;
            self.relabels_since_update += 1;
        }
    }

    /// The sink's residual arcs go to offers with `z > 0` and demands with
    /// `y > 0`: potentially every node, so it keeps a current-arc pointer
    /// (`t_cur`, offers first, then demands) and only rescans everything on
    /// a relabel.
    #[inline(never)]
    fn discharge_sink(&mut self, eps: i64) {
        let (nd, no) = (self.net.nd, self.net.no);
        loop {
            let pt = self.tprice;
            let mut ex = self.tex;
            if ex <= 0 {
                return;
            }
            while self.t_cur < no + nd {
                let i = self.t_cur;
                if i < no {
                    let o = i;
                    if self.z[o] > 0 && pt - self.oprice[o] < 0 {
                        let delta = ex.min(i64::from(self.z[o]));
                        self.z[o] -= delta as u32;
                        let before = self.oex[o];
                        self.oex[o] += delta;
                        self.activate_offer(o, before);
                        self.stats.pushes += 1;
                        ex -= delta;
                        if ex == 0 {
                            break;
                        }
                    }
                } else {
                    let d = i - no;
                    if self.y[d] > 0 && pt - self.dprice[d] < 0 {
                        let delta = ex.min(i64::from(self.y[d]));
                        self.y[d] -= delta as u32;
                        let before = self.dex[d];
                        self.dex[d] += delta;
                        self.activate_demand(d, before);
                        self.stats.pushes += 1;
                        ex -= delta;
                        if ex == 0 {
                            break;
                        }
                    }
                }
                self.t_cur += 1;
            }
            self.tex = ex;
            if ex == 0 {
                return;
            }
            // Relabel: no admissible arc left.
            let mut best = i64::MIN;
            for o in 0..no {
                if self.z[o] > 0 {
                    best = best.max(self.oprice[o]);
                }
            }
            for d in 0..nd {
                if self.y[d] > 0 {
                    best = best.max(self.dprice[d]);
                }
            }
            debug_assert!(best > i64::MIN, "active sink without residual arcs");
            self.tprice = best - eps;
            self.t_cur = 0;
            self.stats.relabels += 1;
            self.stats.sink_relabels += 1;
            self.relabels_since_update += 1;
        }
    }

    /// Early termination: tries to prove the current flow optimal by
    /// finding prices under which every residual arc has reduced cost
    /// `>= -1` (label-correcting shortest paths with lengths `rc + 1`,
    /// started from the current prices, which are already ε-optimal, so
    /// few labels move when the flow is in fact optimal). Costs are
    /// multiplied by `cost_mult > nodes`, so a residual cycle of negative
    /// integer cost has length `<= -cost_mult + nodes < 0`: success proves
    /// optimality. A negative cycle makes the search run forever, so it
    /// gives up after a work budget of a few passes over the arcs.
    #[inline(never)]
    fn prove_optimal(&mut self) -> bool {
        let (nd, no) = (self.net.nd, self.net.no);
        let t = nd + no;
        let nodes = t + 1;
        let mut budget = 4 * (self.net.arcs.len() as i64 + nodes as i64);
        let mut dist = vec![0i64; nodes];
        let mut in_queue = vec![true; nodes];
        let mut queue: std::collections::VecDeque<u32> = (0..nodes as u32).collect();
        let net = &self.net;
        let (dprice, oprice, tprice) = (&self.dprice, &self.oprice, self.tprice);
        let (y, z) = (&self.y, &self.z);
        // Relaxes u -> v with reduced cost rc; u is at distance du.
        let relax = |v: usize,
                     rc: i64,
                     du: i64,
                     dist: &mut [i64],
                     in_queue: &mut [bool],
                     queue: &mut std::collections::VecDeque<u32>| {
            let nd_ = du + rc + 1;
            if nd_ < dist[v] {
                dist[v] = nd_;
                if !in_queue[v] {
                    in_queue[v] = true;
                    queue.push_back(v as u32);
                }
            }
        };
        while let Some(u) = queue.pop_front() {
            let u = u as usize;
            in_queue[u] = false;
            let du = dist[u];
            if u < nd {
                let d = u;
                let pd = dprice[d];
                let (s, e) = (net.d_start[d] as usize, net.d_start[d + 1] as usize);
                budget -= (e - s) as i64 + 1;
                for a in s..e {
                    let arc = net.arcs[a];
                    if arc.resid > 0 {
                        let o = arc.offer as usize;
                        relax(nd + o, arc.cost + pd - oprice[o], du, &mut dist, &mut in_queue, &mut queue);
                    }
                }
                if y[d] < net.qty[d] {
                    relax(t, pd - tprice, du, &mut dist, &mut in_queue, &mut queue);
                }
            } else if u < t {
                let o = u - nd;
                let po = oprice[o];
                let s = net.o_start[o] as usize;
                let f = s + net.o_nflow[o] as usize;
                budget -= (f - s) as i64 + 1;
                for oa in &net.o_side[s..f] {
                    let d = oa.tail as usize;
                    relax(d, -oa.cost + po - dprice[d], du, &mut dist, &mut in_queue, &mut queue);
                }
                if z[o] < net.capo[o] {
                    relax(t, po - tprice, du, &mut dist, &mut in_queue, &mut queue);
                }
            } else {
                budget -= nodes as i64;
                for o in 0..no {
                    if z[o] > 0 {
                        relax(nd + o, tprice - oprice[o], du, &mut dist, &mut in_queue, &mut queue);
                    }
                }
                for d in 0..nd {
                    if y[d] > 0 {
                        relax(d, tprice - dprice[d], du, &mut dist, &mut in_queue, &mut queue);
                    }
                }
            }
            if budget < 0 {
                return false;
            }
        }
        true
    }

    /// Global price update: a bucket-based Dijkstra from the deficit nodes
    /// backwards over residual arcs with length `floor(rc / ε) + 1`, then
    /// `p(v) -= ε * dist(v)`. Keeps ε-optimality and makes every active node
    /// reach a deficit over admissible arcs, which removes most of the
    /// relabel work of plain push-relabel.
    fn global_update(&mut self, eps: i64) {
        self.stats.price_updates += 1;
        self.t_cur = 0;
        self.relabels_since_update = 0;
        let (nd, no) = (self.net.nd, self.net.no);
        let t = nd + no;
        let nodes = t + 1;
        let max_dist = (2 * nodes) as u32;
        self.dist.iter_mut().for_each(|x| *x = NONE);
        let mut buckets = std::mem::take(&mut self.buckets);
        for b in &mut buckets {
            b.clear();
        }
        if buckets.is_empty() {
            buckets.push(Vec::new());
        }
        let mut active = 0usize;
        let mut push0 = |v: usize, ex: i64, dist: &mut [u32], active: &mut usize| {
            if ex < 0 {
                dist[v] = 0;
                buckets[0].push(v as u32);
            } else if ex > 0 {
                *active += 1;
            }
        };
        for d in 0..nd {
            push0(d, self.dex[d], &mut self.dist, &mut active);
        }
        for o in 0..no {
            push0(nd + o, self.oex[o], &mut self.dist, &mut active);
        }
        push0(t, self.tex, &mut self.dist, &mut active);

        // `scanned` is encoded by setting the top bit of dist.
        const DONE: u32 = 1 << 31;
        let mut level: usize = 0;
        let net = &self.net;
        let dist = &mut self.dist;
        let (dprice, oprice, tprice) = (&self.dprice, &self.oprice, self.tprice);
        let (dex, oex, tex) = (&self.dex, &self.oex, self.tex);
        let (y, z) = (&self.y, &self.z);
        // Relaxes arc u -> v (v at distance dv) with reduced cost rc.
        let relax = |u: usize, rc: i64, dv: u32, dist: &mut [u32], buckets: &mut Vec<Vec<u32>>| {
            let du = dist[u];
            if du & DONE != 0 && du != NONE {
                return;
            }
            // New label dv + floor(rc / ε) + 1 beats the current one (or the
            // cap) iff rc < (current - dv - 1) * ε: test with a multiply and
            // only divide for the (rarer) improving arcs.
            let cur = if du == NONE { max_dist + 1 } else { du };
            if rc >= (i64::from(cur) - i64::from(dv) - 1) * eps {
                return;
            }
            let new = (i64::from(dv) + rc.div_euclid(eps) + 1).max(i64::from(dv)) as u32;
            dist[u] = new;
            let b = new as usize;
            if buckets.len() <= b {
                buckets.resize_with(b + 1, Vec::new);
            }
            buckets[b].push(u as u32);
        };
        'outer: while active > 0 && level < buckets.len() {
            while let Some(v) = buckets[level].pop() {
                let v = v as usize;
                if let Some(&next) = buckets[level].last() {
                    prefetch_node(net, next as usize, true);
                }
                if dist[v] != level as u32 {
                    continue; // stale entry or already scanned
                }
                dist[v] |= DONE;
                let dv = level as u32;
                let ex = if v < nd {
                    dex[v]
                } else if v < t {
                    oex[v - nd]
                } else {
                    tex
                };
                if ex > 0 {
                    active -= 1;
                    if active == 0 {
                        break 'outer;
                    }
                }
                if v < nd {
                    // Residual arcs into demand d: o -> d with flow, t -> d.
                    let d = v;
                    let pd = dprice[d];
                    let (s, e) = (net.d_start[d] as usize, net.d_start[d + 1] as usize);
                    for a in s..e {
                        let arc = net.arcs[a];
                        if arc.resid < net.cap[a] {
                            let o = arc.offer as usize;
                            relax(nd + o, -arc.cost + oprice[o] - pd, dv, dist, &mut buckets);
                        }
                    }
                    if y[d] > 0 {
                        relax(t, tprice - pd, dv, dist, &mut buckets);
                    }
                } else if v < t {
                    // Residual arcs into offer o: d -> o not saturated, t -> o.
                    let o = v - nd;
                    let po = oprice[o];
                    // Arcs past the flow prefix carry no flow, so are residual.
                    let s = net.o_start[o] as usize;
                    let f = s + net.o_nflow[o] as usize;
                    let e = net.o_start[o + 1] as usize;
                    let co = net.capo[o];
                    for oa in &net.o_side[s..f] {
                        let d = oa.tail as usize;
                        if oa.flow < net.qty[d].min(co) {
                            relax(d, oa.cost + dprice[d] - po, dv, dist, &mut buckets);
                        }
                    }
                    for oa in &net.o_side[f..e] {
                        let d = oa.tail as usize;
                        relax(d, oa.cost + dprice[d] - po, dv, dist, &mut buckets);
                    }
                    if z[o] > 0 {
                        relax(t, tprice - po, dv, dist, &mut buckets);
                    }
                } else {
                    // Residual arcs into the sink: o -> t, d -> t.
                    for o in 0..no {
                        if z[o] < net.capo[o] {
                            relax(nd + o, oprice[o] - tprice, dv, dist, &mut buckets);
                        }
                    }
                    for d in 0..nd {
                        if y[d] < net.qty[d] {
                            relax(d, dprice[d] - tprice, dv, dist, &mut buckets);
                        }
                    }
                }
            }
            level += 1;
        }
        let level = level.min(max_dist as usize + 1) as u32;
        let price_of = |v: usize| -> u32 {
            let x = dist[v];
            if x == NONE {
                level
            } else if x & DONE != 0 {
                x & !DONE
            } else {
                // Labelled but not scanned: its true distance is >= level.
                level
            }
        };
        for d in 0..nd {
            self.dprice[d] -= eps * i64::from(price_of(d));
        }
        for o in 0..no {
            self.oprice[o] -= eps * i64::from(price_of(nd + o));
        }
        self.tprice -= eps * i64::from(price_of(t));
        self.buckets = buckets;
    }
}
