//! The HNSW graph (Malkov & Yashunin), written here because the crates
//! tried were slower than hnswlib on the same vectors: hnsw_rs answered
//! 0.60–0.75× as many queries (it allocates a reference-counted entry and a
//! hash-map slot per visited node) and usearch 0.55× on COIL-sized sets
//! (a C++ call and two vectors per query); the others cannot filter inside
//! the search. This one keeps hnswlib's layout: vectors in one flat array,
//! fixed-size neighbour lists, visited marks by generation.
//!
//! Neighbour lists are atomics so the build can insert from several
//! threads, each writer holding its node's lock while readers walk without
//! one (a reader may see a list mid-update: every id in it is a valid node,
//! which is all a graph walk needs). Relaxed loads are plain loads on x86
//! and ARM, so searching pays nothing for it.

use std::io::{self, Read, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use super::scratch::{self, Near};
use super::{Hit, Params, dot};

const NONE: u32 = u32::MAX;
/// Level cap: with M 16 a level above 12 needs about 16¹² nodes.
const MAX_LEVEL: u8 = 16;
const MAGIC: &[u8; 8] = b"WLHNSW01";

#[derive(Debug, Clone, Copy)]
struct Entry {
    node: u32,
    level: u8,
}

pub struct Index {
    params: Params,
    dim: usize,
    /// Node i's vector is `vectors[i·dim .. (i+1)·dim]`.
    vectors: Vec<f32>,
    levels: Vec<u8>,
    /// Layer 0: per node a count then 2·M slots.
    base: Vec<AtomicU32>,
    /// Layers 1..=level: per node `level` blocks of a count then M slots.
    upper: Vec<Box<[AtomicU32]>>,
    locks: Vec<Mutex<()>>,
    entry: Mutex<Option<Entry>>,
    rng: SmallRng,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("reading the index: {0}")]
    Io(#[from] io::Error),
    #[error("not a saved index: {0}")]
    Invalid(&'static str),
}

impl Index {
    fn empty(dim: usize, params: Params) -> Self {
        let params = Params { m: params.m.clamp(2, 255), ef_construction: params.ef_construction.max(1), ..params };
        Self {
            params,
            dim,
            vectors: Vec::new(),
            levels: Vec::new(),
            base: Vec::new(),
            upper: Vec::new(),
            locks: Vec::new(),
            entry: Mutex::new(None),
            // hnswlib's default seed, so levels are drawn alike.
            rng: SmallRng::seed_from_u64(100),
        }
    }

    /// Builds the graph over `vectors` (ids are their positions), inserting
    /// on every core.
    pub fn build(vectors: &[Vec<f32>], params: Params) -> Self {
        let dim = vectors.first().map_or(0, Vec::len);
        let mut index = Self::empty(dim, params);
        for v in vectors {
            index.push(v);
        }
        if !vectors.is_empty() {
            index.link(0);
            (1..vectors.len() as u32).into_par_iter().for_each(|node| index.link(node));
        }
        index
    }

    /// Adds `vector` as the next id (its position, `len()` before the call).
    pub fn insert(&mut self, vector: &[f32], id: usize) {
        debug_assert_eq!(id, self.len(), "ids are positions");
        if self.is_empty() {
            self.dim = vector.len();
        }
        let node = self.push(vector);
        self.link(node);
    }

    /// Candidates kept while searching: more is slower and finds more.
    pub fn set_ef_search(&mut self, ef: usize) {
        self.params.ef_search = ef.max(1);
    }

    pub fn len(&self) -> usize {
        self.levels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    /// The `k` nearest to `query` among ids `keep` accepts, best first.
    /// Nodes the filter refuses are still walked through, so a selective
    /// filter costs more visits, never results (at worst the whole graph).
    pub fn search(&self, query: &[f32], k: usize, keep: Option<&dyn Fn(usize) -> bool>) -> Vec<Hit> {
        let Some(entry) = *self.entry.lock().unwrap_or_else(|e| e.into_inner()) else {
            return Vec::new();
        };
        if k == 0 || query.len() != self.dim {
            return Vec::new();
        }
        let mut near = Near { dist: self.distance(query, entry.node), id: entry.node };
        for layer in (1..=entry.level).rev() {
            near = self.greedy(query, near, layer);
        }
        let ef = self.params.ef_search.max(k);
        scratch::with(|s| {
            self.search_layer(s, query, near, ef, 0, keep);
            let mut found = std::mem::take(&mut s.results).into_sorted_vec();
            found.truncate(k);
            let hits = found.iter().map(|n| Hit { id: n.id as usize, similarity: 1.0 - n.dist }).collect();
            found.clear();
            s.results = found.into();
            hits
        })
    }

    /// The vector stored as `id`.
    pub fn vector_of(&self, id: usize) -> &[f32] {
        self.vector(id as u32)
    }

    fn vector(&self, node: u32) -> &[f32] {
        let at = node as usize * self.dim;
        &self.vectors[at..at + self.dim]
    }

    #[inline]
    fn distance(&self, query: &[f32], node: u32) -> f32 {
        1.0 - dot(query, self.vector(node))
    }

    /// Asks the CPU to start loading `node`'s vector.
    #[inline]
    fn prefetch(&self, node: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            let at = node as usize * self.dim;
            let v = &self.vectors[at..at + self.dim];
            // The first lines; the hardware prefetcher follows the rest of a
            // sequential read.
            for line in v.chunks(16).take(4) {
                // SAFETY: a prefetch is a hint that never faults, and the
                // address is inside a live slice.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast()) };
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = node;
    }

    fn capacity(&self, layer: u8) -> usize {
        if layer == 0 { 2 * self.params.m } else { self.params.m }
    }

    /// The count slot and the slots of `node`'s list on `layer`.
    fn list(&self, node: u32, layer: u8) -> &[AtomicU32] {
        let cap = self.capacity(layer);
        if layer == 0 {
            let at = node as usize * (cap + 1);
            &self.base[at..at + cap + 1]
        } else {
            let at = (layer as usize - 1) * (cap + 1);
            &self.upper[node as usize][at..at + cap + 1]
        }
    }

    fn neighbours(&self, node: u32, layer: u8) -> impl Iterator<Item = u32> + '_ {
        let list = self.list(node, layer);
        let count = (list[0].load(Relaxed) as usize).min(list.len() - 1);
        list[1..=count].iter().map(|a| a.load(Relaxed))
    }

    fn set_neighbours(&self, node: u32, layer: u8, ids: impl ExactSizeIterator<Item = u32>) {
        let list = self.list(node, layer);
        let count = ids.len().min(list.len() - 1);
        for (slot, id) in list[1..].iter().zip(ids) {
            slot.store(id, Relaxed);
        }
        list[0].store(count as u32, Relaxed);
    }

    /// Appends a node's vector and empty lists, drawing its level.
    fn push(&mut self, vector: &[f32]) -> u32 {
        let node = self.levels.len() as u32;
        self.vectors.extend_from_slice(vector);
        self.vectors.resize((node as usize + 1) * self.dim, 0.0);
        let ml = 1.0 / (self.params.m as f64).ln();
        let unit: f64 = self.rng.random_range(f64::EPSILON..1.0);
        let level = ((-unit.ln() * ml) as u8).min(MAX_LEVEL);
        self.levels.push(level);
        self.base.extend((0..=self.capacity(0)).map(|_| AtomicU32::new(0)));
        self.upper.push((0..level as usize * (self.params.m + 1)).map(|_| AtomicU32::new(0)).collect());
        self.locks.push(Mutex::new(()));
        node
    }

    /// From `from`, moves to whichever neighbour on `layer` is nearer until
    /// none is: the descent through the upper layers.
    fn greedy(&self, query: &[f32], mut from: Near, layer: u8) -> Near {
        loop {
            let mut moved = false;
            for n in self.neighbours(from.id, layer) {
                let d = self.distance(query, n);
                if d < from.dist {
                    from = Near { dist: d, id: n };
                    moved = true;
                }
            }
            if !moved {
                return from;
            }
        }
    }

    /// The beam search of one layer: leaves the best `ef` accepted nodes in
    /// `s.results`.
    fn search_layer(
        &self,
        s: &mut scratch::Scratch,
        query: &[f32],
        start: Near,
        ef: usize,
        layer: u8,
        keep: Option<&dyn Fn(usize) -> bool>,
    ) {
        use std::cmp::Reverse;
        let accepts = |id: u32| keep.is_none_or(|f| f(id as usize));
        s.visited.start(self.len());
        s.visited.check_and_mark(start.id);
        s.candidates.push(Reverse(start));
        if accepts(start.id) {
            s.results.push(start);
        }
        while let Some(Reverse(current)) = s.candidates.pop() {
            if s.results.len() >= ef && s.results.peek().is_some_and(|worst| current.dist > worst.dist) {
                break;
            }
            // The unvisited first, so each vector's fetch can be started
            // while the one before it is measured.
            s.fresh.clear();
            for n in self.neighbours(current.id, layer) {
                if !s.visited.check_and_mark(n) {
                    s.fresh.push(n);
                }
            }
            for i in 0..s.fresh.len() {
                let n = s.fresh[i];
                if let Some(&next) = s.fresh.get(i + 1) {
                    self.prefetch(next);
                }
                let dist = self.distance(query, n);
                let bound = if s.results.len() < ef {
                    f32::INFINITY
                } else {
                    s.results.peek().map_or(f32::INFINITY, |w| w.dist)
                };
                if dist < bound {
                    let near = Near { dist, id: n };
                    s.candidates.push(Reverse(near));
                    if accepts(n) {
                        s.results.push(near);
                        if s.results.len() > ef {
                            s.results.pop();
                        }
                    }
                }
            }
        }
        s.candidates.clear();
    }

    /// hnswlib's neighbour heuristic: from `candidates` (nearest first),
    /// keeps a candidate only if it is nearer to the base than to every one
    /// already kept, so links spread in all directions.
    fn diverse(&self, candidates: &[Near], m: usize) -> Vec<u32> {
        let mut kept: Vec<Near> = Vec::with_capacity(m);
        for c in candidates {
            if kept.len() >= m {
                break;
            }
            let v = self.vector(c.id);
            if kept.iter().all(|k| self.distance(v, k.id) >= c.dist) {
                kept.push(*c);
            }
        }
        kept.into_iter().map(|k| k.id).collect()
    }

    /// Links an appended node into the graph.
    fn link(&self, node: u32) {
        let level = self.levels[node as usize];
        let mut entry_lock = self.entry.lock().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = *entry_lock else {
            *entry_lock = Some(Entry { node, level });
            return;
        };
        // A node above the top level becomes the entry: keep the lock so
        // no other insert starts from the old one meanwhile (rare).
        let raise = (level > entry.level).then_some(entry_lock);
        let query = self.vector(node);
        let mut near = Near { dist: self.distance(query, entry.node), id: entry.node };
        for layer in (level + 1..=entry.level).rev() {
            near = self.greedy(query, near, layer);
        }
        // Every layer's links are chosen before any is written: a node
        // reachable on an upper layer while its layer-0 list is still empty
        // would become a dead-end entry point for concurrent inserts.
        let mut chosen = Vec::with_capacity(level as usize + 1);
        for layer in (0..=level.min(entry.level)).rev() {
            let found = scratch::with(|s| {
                self.search_layer(s, query, near, self.params.ef_construction, layer, None);
                std::mem::take(&mut s.results).into_sorted_vec()
            });
            chosen.push((layer, self.diverse(&found, self.params.m)));
            near = found[0];
        }
        {
            let _own = self.locks[node as usize].lock().unwrap_or_else(|e| e.into_inner());
            for (layer, ids) in &chosen {
                self.set_neighbours(node, *layer, ids.iter().copied());
            }
        }
        for (layer, ids) in &chosen {
            for &other in ids {
                self.link_back(other, node, *layer);
            }
        }
        if let Some(mut lock) = raise {
            *lock = Some(Entry { node, level });
        }
    }

    /// Adds `node` to `other`'s list, re-choosing it if full.
    fn link_back(&self, other: u32, node: u32, layer: u8) {
        let _lock = self.locks[other as usize].lock().unwrap_or_else(|e| e.into_inner());
        let current: Vec<u32> = self.neighbours(other, layer).collect();
        if current.contains(&node) {
            return;
        }
        let cap = self.capacity(layer);
        if current.len() < cap {
            let list = self.list(other, layer);
            list[current.len() + 1].store(node, Relaxed);
            list[0].store(current.len() as u32 + 1, Relaxed);
            return;
        }
        let base = self.vector(other);
        let mut candidates: Vec<Near> =
            current.iter().chain([&node]).map(|&id| Near { dist: self.distance(base, id), id }).collect();
        candidates.sort_unstable();
        let chosen = self.diverse(&candidates, cap);
        self.set_neighbours(other, layer, chosen.into_iter());
    }

    /// Writes the graph and its vectors, for `load`.
    pub fn save(&self, out: &mut impl Write) -> io::Result<()> {
        let entry = *self.entry.lock().unwrap_or_else(|e| e.into_inner());
        out.write_all(MAGIC)?;
        for n in [self.dim, self.params.m, self.params.ef_construction, self.params.ef_search, self.len()] {
            out.write_all(&(n as u64).to_le_bytes())?;
        }
        let (node, level) = entry.map_or((NONE, 0), |e| (e.node, e.level));
        out.write_all(&node.to_le_bytes())?;
        out.write_all(&[level])?;
        out.write_all(&self.levels)?;
        let mut bytes = Vec::with_capacity(self.vectors.len() * 4);
        bytes.extend(self.vectors.iter().flat_map(|x| x.to_le_bytes()));
        out.write_all(&bytes)?;
        let slots = self.base.iter().chain(self.upper.iter().flat_map(|u| u.iter()));
        bytes.clear();
        bytes.extend(slots.flat_map(|a| a.load(Relaxed).to_le_bytes()));
        out.write_all(&bytes)
    }

    /// Reads what `save` wrote, checking every count and id, so a damaged
    /// file is an error rather than a graph that panics or loops.
    pub fn load(input: &mut impl Read) -> Result<Self, LoadError> {
        let mut magic = [0u8; 8];
        input.read_exact(&mut magic)?;
        if &magic != MAGIC {
            return Err(LoadError::Invalid("wrong magic"));
        }
        let mut header = [0u64; 5];
        for h in &mut header {
            *h = read_u64(input)?;
        }
        let [dim, m, ef_construction, ef_search, len] = header.map(|h| h as usize);
        if dim > 1 << 16 || !(2..=255).contains(&m) || len >= NONE as usize {
            return Err(LoadError::Invalid("header out of range"));
        }
        let mut index = Self::empty(dim, Params { m, ef_construction, ef_search });
        let node = read_u32(input)?;
        let mut level = [0u8];
        input.read_exact(&mut level)?;
        let levels = read_bytes(input, len)?;
        if levels.iter().any(|&l| l > MAX_LEVEL) {
            return Err(LoadError::Invalid("level out of range"));
        }
        let floats = read_bytes(input, len * dim * 4)?;
        index.vectors = floats.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        let m0 = index.capacity(0);
        let per_upper = m + 1;
        let upper_slots: usize = levels.iter().map(|&l| l as usize * per_upper).sum();
        let slots = read_bytes(input, (len * (m0 + 1) + upper_slots) * 4)?;
        let mut ids = slots.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
        index.base = ids.by_ref().take(len * (m0 + 1)).map(AtomicU32::new).collect();
        index.upper =
            levels.iter().map(|&l| ids.by_ref().take(l as usize * per_upper).map(AtomicU32::new).collect()).collect();
        index.locks = (0..len).map(|_| Mutex::new(())).collect();
        index.levels = levels;
        if len > 0 {
            if node as usize >= len || level[0] != index.levels[node as usize] {
                return Err(LoadError::Invalid("entry point"));
            }
            *index.entry.get_mut().unwrap_or_else(|e| e.into_inner()) = Some(Entry { node, level: level[0] });
        }
        for n in 0..len as u32 {
            for layer in 0..=index.levels[n as usize] {
                let list = index.list(n, layer);
                let count = list[0].load(Relaxed) as usize;
                if count >= list.len() || list[1..=count].iter().any(|a| a.load(Relaxed) as usize >= len) {
                    return Err(LoadError::Invalid("neighbour list"));
                }
            }
        }
        Ok(index)
    }
}

fn read_u64(input: &mut impl Read) -> io::Result<u64> {
    let mut b = [0u8; 8];
    input.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

fn read_u32(input: &mut impl Read) -> io::Result<u32> {
    let mut b = [0u8; 4];
    input.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

/// Exactly `n` bytes, grown as they arrive, so a damaged length fails at
/// the end of the file instead of allocating what it claims.
fn read_bytes(input: &mut impl Read, n: usize) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    input.take(n as u64).read_to_end(&mut bytes)?;
    if bytes.len() == n { Ok(bytes) } else { Err(io::ErrorKind::UnexpectedEof.into()) }
}
