//! The replayed marketplace: MovieLens ratings as demands and outcomes.
//! Offers are titles (their genres the categories, each title its own
//! provider, a few copies each); a person who rated titles of genre G in a
//! round posted the demand "a title in genre G" in that round, and its
//! candidates are exactly the titles of G they rated then, so the outcome of
//! every proposal is known: accepted when the real rating is ≥ 4.

use std::collections::{BTreeMap, HashMap};

/// Accepted: rated at least this (of 5 stars, half stars allowed).
pub const GOOD_RATING: f32 = 4.0;

#[derive(Debug, Clone, Copy)]
pub struct Rating {
    pub user: u32,
    pub item: u32,
    pub rating: f32,
    pub time: i64,
}

#[derive(Debug)]
pub struct Titles {
    /// Genres per item number (`files::Ids`).
    pub genres: HashMap<u32, Vec<u8>>,
}

/// A candidate title and its real rating: (item, rating).
pub type Candidate = (u32, f32);

/// One demand of a round: a person and the titles of one genre they rated in it.
#[derive(Debug, Clone)]
pub struct Demand {
    pub user: u32,
    /// When it was posted: its first rating's time (seconds).
    pub time: i64,
    pub candidates: Vec<Candidate>,
}

/// The demands of one slice of ratings: per person and genre with at least
/// two rated titles, in a fixed order (person, genre).
pub fn demands(ratings: &[Rating], titles: &Titles) -> Vec<Demand> {
    let mut by: BTreeMap<(u32, u8), (i64, Vec<Candidate>)> = BTreeMap::new();
    for r in ratings {
        for g in titles.genres.get(&r.item).into_iter().flatten() {
            by.entry((r.user, *g)).or_insert((r.time, Vec::new())).1.push((r.item, r.rating));
        }
    }
    by.into_iter()
        .filter(|(_, (_, c))| c.len() >= 2)
        .map(|((user, _genre), (time, candidates))| Demand { user, time, candidates })
        .collect()
}

/// When each title first appeared in the ratings (its listing time).
pub fn listed_at(ratings: &[Rating]) -> HashMap<u32, i64> {
    let mut out = HashMap::new();
    for r in ratings {
        out.entry(r.item).or_insert(r.time);
    }
    out
}
