//! Interaction files (`user<TAB>item`, further columns ignored) and the
//! index maps between external ids and the dense indices models use.

use std::collections::HashMap;
use std::path::Path;

use super::RecommenderError;

/// Users' item histories over dense indices.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Interactions {
    pub users: Vec<String>,
    pub items: Vec<String>,
    /// Per user, the distinct items it interacted with, ascending.
    pub by_user: Vec<Vec<u32>>,
    user_index: HashMap<String, u32>,
    item_index: HashMap<String, u32>,
}

impl Interactions {
    pub fn n_users(&self) -> usize {
        self.users.len()
    }

    pub fn n_items(&self) -> usize {
        self.items.len()
    }

    pub fn user(&self, id: &str) -> Option<u32> {
        self.user_index.get(id).copied()
    }

    pub fn item(&self, id: &str) -> Option<u32> {
        self.item_index.get(id).copied()
    }

    /// Adds one interaction, creating indices for new users and items.
    pub fn push(&mut self, user: &str, item: &str) {
        let u = match self.user_index.get(user) {
            Some(u) => *u,
            None => {
                self.users.push(user.to_string());
                self.by_user.push(Vec::new());
                let u = (self.users.len() - 1) as u32;
                self.user_index.insert(user.to_string(), u);
                u
            }
        };
        let i = match self.item_index.get(item) {
            Some(i) => *i,
            None => {
                self.items.push(item.to_string());
                let i = (self.items.len() - 1) as u32;
                self.item_index.insert(item.to_string(), i);
                i
            }
        };
        self.by_user[u as usize].push(i);
    }

    /// Sorts and deduplicates every history (repeated interactions count once).
    pub fn finish(mut self) -> Self {
        for h in &mut self.by_user {
            h.sort_unstable();
            h.dedup();
        }
        self
    }

    /// The users of each item (the histories transposed), ascending.
    pub fn by_item(&self) -> Vec<Vec<u32>> {
        let mut by_item = vec![Vec::new(); self.n_items()];
        for (u, h) in self.by_user.iter().enumerate() {
            for &i in h {
                by_item[i as usize].push(u as u32);
            }
        }
        by_item
    }

    pub fn len(&self) -> usize {
        self.by_user.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Histories of another file mapped onto this one's indices; users and
    /// items unknown here are dropped (they cannot be ranked).
    pub fn project(&self, pairs: &[(String, String)]) -> Vec<Vec<u32>> {
        let mut out = vec![Vec::new(); self.n_users()];
        for (u, i) in pairs {
            if let (Some(u), Some(i)) = (self.user(u), self.item(i)) {
                out[u as usize].push(i);
            }
        }
        for h in &mut out {
            h.sort_unstable();
            h.dedup();
        }
        out
    }
}

/// Reads a `user<TAB>item[<TAB>…]` file straight into histories, line by
/// line: ten million interactions take a few hundred megabytes this way,
/// against gigabytes as a list of string pairs.
pub fn read_interactions(path: &Path) -> Result<Interactions, RecommenderError> {
    use std::io::BufRead;
    let io = |e: std::io::Error| RecommenderError::Io(format!("{}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(io)?;
    let mut x = Interactions::default();
    let mut line = String::new();
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut n = 0;
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(io)? == 0 {
            break;
        }
        n += 1;
        let text = line.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            continue;
        }
        let mut f = text.split('\t');
        match (f.next(), f.next()) {
            (Some(u), Some(i)) if !u.trim().is_empty() && !i.trim().is_empty() => x.push(u.trim(), i.trim()),
            _ => {
                return Err(RecommenderError::BadLine {
                    file: path.display().to_string(),
                    line: n,
                    reason: "expected user<TAB>item".into(),
                });
            }
        }
    }
    if x.is_empty() {
        return Err(RecommenderError::Empty);
    }
    Ok(x.finish())
}

/// Reads `user<TAB>item[<TAB>…]` lines; a line without two fields is an error naming it.
pub fn read_pairs(path: &Path) -> Result<Vec<(String, String)>, RecommenderError> {
    let text = std::fs::read_to_string(path).map_err(|e| RecommenderError::Io(format!("{}: {e}", path.display())))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut f = line.split('\t');
        match (f.next(), f.next()) {
            (Some(u), Some(i)) if !u.trim().is_empty() && !i.trim().is_empty() => {
                out.push((u.trim().to_string(), i.trim().to_string()))
            }
            _ => {
                return Err(RecommenderError::BadLine {
                    file: path.display().to_string(),
                    line: n + 1,
                    reason: "expected user<TAB>item".into(),
                });
            }
        }
    }
    if out.is_empty() {
        return Err(RecommenderError::Empty);
    }
    Ok(out)
}

pub fn from_pairs(pairs: &[(String, String)]) -> Interactions {
    let mut x = Interactions::default();
    for (u, i) in pairs {
        x.push(u, i);
    }
    x.finish()
}
