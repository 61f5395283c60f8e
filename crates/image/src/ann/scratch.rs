//! Per-thread working memory of a graph search: the visited marks and the
//! two heaps, reused from query to query so a search allocates only its
//! answer.

use std::cell::RefCell;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// A node and its distance (1 − cosine) to the query; ordered by distance.
#[derive(Debug, Clone, Copy)]
pub(super) struct Near {
    pub dist: f32,
    pub id: u32,
}

impl PartialEq for Near {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Near {}

impl PartialOrd for Near {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Near {
    fn cmp(&self, other: &Self) -> Ordering {
        self.dist.total_cmp(&other.dist).then(self.id.cmp(&other.id))
    }
}

/// Visited marks by generation: starting a search bumps the generation
/// instead of clearing an array as long as the graph.
#[derive(Default)]
pub(super) struct Visited {
    marks: Vec<u16>,
    generation: u16,
}

impl Visited {
    pub fn start(&mut self, nodes: usize) {
        if self.marks.len() < nodes {
            self.marks.resize(nodes, 0);
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.marks.fill(0);
            self.generation = 1;
        }
    }

    /// Marks `id`, answering whether it was already marked.
    #[inline]
    pub fn check_and_mark(&mut self, id: u32) -> bool {
        let mark = &mut self.marks[id as usize];
        let seen = *mark == self.generation;
        *mark = self.generation;
        seen
    }
}

#[derive(Default)]
pub(super) struct Scratch {
    pub visited: Visited,
    /// Nodes still to expand, nearest first.
    pub candidates: BinaryHeap<Reverse<Near>>,
    /// The best `ef` accepted so far, farthest on top.
    pub results: BinaryHeap<Near>,
    /// The unvisited neighbours of the node being expanded.
    pub fresh: Vec<u32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's scratch, emptied.
pub(super) fn with<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        s.candidates.clear();
        s.results.clear();
        f(&mut s)
    })
}
