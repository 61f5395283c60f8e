//! `wantloop allocate`: any bytes split at 0xFF into the demands, offers and
//! edges files are parsed and validated; a small valid instance is solved
//! exactly and greedily, and the exact objective is never below the greedy one.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use wantloop_alloc::{files, solve_greedy, solve_optimal};

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |b| *b == 0xFF);
    let (Some(d), Some(o), Some(e)) = (parts.next(), parts.next(), parts.next()) else { return };
    let Ok(loaded) =
        files::parse((Path::new("demands.csv"), d), (Path::new("offers.csv"), o), (Path::new("edges.csv"), e))
    else {
        return;
    };
    let inst = &loaded.instance;
    if inst.edges.len() > 2_000 {
        return;
    }
    let (Ok(exact), Ok(greedy)) = (solve_optimal(inst), solve_greedy(inst)) else { return };
    assert!(exact.objective + 1e-6 * exact.objective.abs().max(1.0) >= greedy.objective, "{exact:?} < {greedy:?}");
});
