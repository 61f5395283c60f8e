//! Exact allocation by cost-scaling push-relabel (Goldberg & Tarjan), tuned
//! for the bipartite allocation network of [`crate::network`].
//!
//! Why this algorithm: successive shortest paths needs one shortest-path
//! computation per augmentation (hundreds of thousands on realistic batches)
//! and is far too slow; cost scaling does `O(log(n C))` refinements, each of
//! which only moves flow locally, and with global price updates it is the
//! fastest general method on large sparse networks (it is what OR-Tools'
//! `SimpleMinCostFlow` uses). We beat a generic implementation by exploiting
//! the structure:
//!
//! * a demand's arcs are its candidate offers plus one disposal arc, stored
//!   contiguously (cost, head, residual in 16 bytes);
//! * an offer's only residual outgoing arcs are to the sink and back to the
//!   demands currently sending it flow; those arcs are kept as a prefix of
//!   the offer's in-arc list, so relabelling a popular offer costs
//!   `O(units held)` instead of `O(candidates)`;
//! * there is no source node (demands carry their supply), so the only hub
//!   is the sink, which is rarely active.
//!
//! Reduced cost of a residual arc `u -> v` is `c(u, v) + p(u) - p(v)`; a flow
//! is ε-optimal if every residual arc has reduced cost `>= -ε`; costs are
//! multiplied by `nodes + 1`, so the flow is optimal once ε reaches 1.

use crate::network::{DArc, Network};

/// Divisor of ε between refinements.
const ALPHA: i64 = 10;

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
}

const NONE: u32 = u32::MAX;

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
    update_every: u64,
    pub stats: SolveStats,
}

impl Solver {
    pub fn new(net: Network) -> Solver {
        let (nd, no) = (net.nd, net.no);
        let dex = net.qty.iter().map(|&q| i64::from(q)).collect::<Vec<_>>();
        let tex = -dex.iter().sum::<i64>();
        let nodes = nd + no + 1;
        Solver {
            dprice: vec![0; nd],
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
            update_every: nodes as u64,
            stats: SolveStats::default(),
            net,
        }
    }

    pub fn into_network(self) -> Network {
        self.net
    }

    /// Runs refinements until the flow is optimal.
    pub fn run(&mut self) {
        let mut eps = self.net.max_cost;
        let alpha: i64 = std::env::var("WL_ALPHA").ok().and_then(|v| v.parse().ok()).unwrap_or(ALPHA);
        if let Some(f) = std::env::var("WL_UPD").ok().and_then(|v| v.parse::<f64>().ok()) {
            self.update_every = (f * (self.net.nd + self.net.no + 1) as f64) as u64;
        }
        while eps > 1 {
            eps = (eps / alpha).max(1);
            let t0 = std::time::Instant::now();
            let before = self.stats;
            self.refine(eps);
            if std::env::var_os("WL_DEBUG").is_some() {
                eprintln!(
                    "eps {eps:>14} {:>8.4}s pushes {:>9} relabels {:>9} sink {:>5} upd {:>4}",
                    t0.elapsed().as_secs_f64(),
                    self.stats.pushes - before.pushes,
                    self.stats.relabels - before.relabels,
                    self.stats.sink_relabels - before.sink_relabels,
                    self.stats.price_updates - before.price_updates
                );
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
        let Solver {
            net,
            dprice,
            oprice,
            tprice,
            dex,
            oex,
            tex,
            y,
            z,
            ..
        } = self;
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
                    let delta = i64::from(resid);
                    dex[d] -= delta;
                    oex[o] += delta;
                    net.arcs[a].resid = 0;
                    if resid == cap {
                        net.flow_list_add(a);
                    }
                } else if rc > eps && resid < cap {
                    let delta = i64::from(cap - resid);
                    dex[d] += delta;
                    oex[o] -= delta;
                    net.arcs[a].resid = cap;
                    net.flow_list_remove(a);
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
        let (s, e) = (
            self.net.d_start[d] as usize,
            self.net.d_start[d + 1] as usize,
        );
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
                let po = self.oprice[o];
                if cost + pd - po < 0 {
                    let delta = ex.min(i64::from(resid)) as u32;
                    let new_resid = resid - delta;
                    self.net.arcs[a].resid = new_resid;
                    if resid == self.net.cap[a] {
                        self.net.flow_list_add(a);
                    }
                    let before = self.oex[o];
                    self.oex[o] += i64::from(delta);
                    self.activate_offer(o, before);
                    self.stats.pushes += 1;
                    ex -= i64::from(delta);
                    if ex == 0 {
                        break;
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
                    let a = self.net.o_arcs[j] as usize;
                    let d = self.net.o_tail[j] as usize;
                    let cost = self.net.o_cost[j];
                    let pd = self.dprice[d];
                    let val = pd + cost;
                    if po - val < 0 {
                        let flow = self.net.cap[a] - self.net.arcs[a].resid;
                        let delta = ex.min(i64::from(flow)) as u32;
                        self.net.arcs[a].resid += delta;
                        let before = self.dex[d];
                        self.dex[d] += i64::from(delta);
                        self.activate_demand(d, before);
                        self.stats.pushes += 1;
                        ex -= i64::from(delta);
                        if delta == flow {
                            self.net.flow_list_remove(a);
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
            self.tprice = best - eps;
            self.t_cur = 0;
            self.stats.relabels += 1;
            self.stats.sink_relabels += 1;
            self.relabels_since_update += 1;
        }
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
            if dist[u] & DONE != 0 && dist[u] != NONE {
                return;
            }
            let len = (rc.div_euclid(eps) + 1).max(0);
            let nd_ = i64::from(dv) + len;
            if nd_ > i64::from(max_dist) {
                return;
            }
            let nd_ = nd_ as u32;
            if dist[u] == NONE || nd_ < dist[u] {
                dist[u] = nd_;
                let b = nd_ as usize;
                if buckets.len() <= b {
                    buckets.resize_with(b + 1, Vec::new);
                }
                buckets[b].push(u as u32);
            }
        };
        'outer: while active > 0 && level < buckets.len() {
            while let Some(v) = buckets[level].pop() {
                let v = v as usize;
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
                    for j in s..f {
                        if net.arcs[net.o_arcs[j] as usize].resid > 0 {
                            let d = net.o_tail[j] as usize;
                            relax(d, net.o_cost[j] + dprice[d] - po, dv, dist, &mut buckets);
                        }
                    }
                    for j in f..e {
                        let d = net.o_tail[j] as usize;
                        relax(d, net.o_cost[j] + dprice[d] - po, dv, dist, &mut buckets);
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
