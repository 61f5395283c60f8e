//! The replayed marketplace: MovieLens ratings as demands and outcomes.
//! Offers are titles (their genres the categories, each title its own
//! provider, a few copies each); a person who rated titles of genre G in a
//! round posted the demand "a title in genre G" in that round, and its
//! candidates are exactly the titles of G they rated then, so the outcome of
//! every proposal is known: accepted when the real rating is ≥ 4.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::EvalError;

pub const GOOD_RATING: u8 = 4;

#[derive(Debug, Clone, Copy)]
pub struct Rating {
    pub user: u32,
    pub item: u32,
    pub rating: u8,
    pub time: i64,
}

pub struct Titles {
    /// Genre flags per item id (index = item id).
    pub genres: Vec<Vec<u8>>,
}

/// A candidate title and its real rating: (item, rating).
pub type Candidate = (u32, u8);

/// One demand of a round: a person and the titles of one genre they rated in it.
#[derive(Debug, Clone)]
pub struct Demand {
    pub user: u32,
    /// When it was posted: its first rating's time (seconds).
    pub time: i64,
    pub candidates: Vec<Candidate>,
}

pub fn read_ratings(path: &Path) -> Result<Vec<Rating>, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|e| EvalError::Io(format!("{}: {e}", path.display())))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let bad =
            || EvalError::Format(format!("{}:{}: expected user<TAB>item<TAB>rating<TAB>time", path.display(), n + 1));
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 4 {
            return Err(bad());
        }
        let rating: u8 = f[2].trim().parse().map_err(|_| bad())?;
        out.push(Rating {
            user: f[0].trim().parse().map_err(|_| bad())?,
            item: f[1].trim().parse().map_err(|_| bad())?,
            rating,
            time: f[3].trim().parse().map_err(|_| bad())?,
        });
    }
    // By time; equal times in file order.
    out.sort_by_key(|r| r.time);
    Ok(out)
}

/// `u.item`: `id|title|date|video date|url|19 genre flags`, Latin-1.
pub fn read_titles(path: &Path) -> Result<Titles, EvalError> {
    let bytes = std::fs::read(path).map_err(|e| EvalError::Io(format!("{}: {e}", path.display())))?;
    let text: String = bytes.iter().map(|&b| b as char).collect();
    let mut genres: Vec<Vec<u8>> = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('|').collect();
        let bad = || EvalError::Format(format!("{}:{}: expected id|title|…|19 genre flags", path.display(), n + 1));
        if f.len() < 24 {
            return Err(bad());
        }
        let id: usize = f[0].parse().map_err(|_| bad())?;
        let flags: Vec<u8> =
            f[f.len() - 19..].iter().enumerate().filter(|(_, x)| **x == "1").map(|(g, _)| g as u8).collect();
        if genres.len() <= id {
            genres.resize(id + 1, Vec::new());
        }
        genres[id] = flags;
    }
    Ok(Titles { genres })
}

/// The demands of one slice of ratings: per person and genre with at least
/// two rated titles, in a fixed order (person, genre).
pub fn demands(ratings: &[Rating], titles: &Titles) -> Vec<Demand> {
    let mut by: BTreeMap<(u32, u8), (i64, Vec<Candidate>)> = BTreeMap::new();
    for r in ratings {
        for g in titles.genres.get(r.item as usize).into_iter().flatten() {
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
