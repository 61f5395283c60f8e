//! The ratings and titles `simulate` replays, read in the layouts MovieLens
//! ships them in, so another release (or another catalogue written the same
//! way) replays without converting:
//!
//! | layout | ratings | titles |
//! |---|---|---|
//! | 100K | `u.data`: `user<TAB>item<TAB>rating<TAB>time` | `u.item`: `id\|title\|…\|19 genre flags` |
//! | 1M, 10M | `ratings.dat`: `user::item::rating::time` | `movies.dat`: `id::title::G1\|G2` |
//! | latest, 20M, 25M | `ratings.csv` with a header, half stars | `movies.csv`: `movieId,title,genres` |
//!
//! Ids are any text (a rated item missing from the titles file is a title
//! without genres, never proposed).
//! Latin-1 files (the older releases) are read as Latin-1.

use std::collections::HashMap;
use std::path::Path;

use super::market::{Rating, Titles};
use crate::EvalError;

/// Genres that mean "none" (MovieLens' own placeholder).
const NO_GENRE: &str = "(no genres listed)";

/// Ids as found in the files, as numbers: a numeric id is its own number
/// (so MovieLens' people and titles keep theirs, and a seed picks the same
/// people whichever layout it reads); any other text is numbered down from
/// the top of the range, where numeric ids do not reach.
#[derive(Debug, Default)]
pub struct Ids(HashMap<String, u32>);

/// Numeric ids at or above this are numbered as text.
const NUMERIC_BELOW: u32 = 1 << 31;

impl Ids {
    fn number(&mut self, id: &str) -> u32 {
        let id = id.trim();
        if let Some(n) = id.parse::<u32>().ok().filter(|n| *n < NUMERIC_BELOW) {
            return n;
        }
        let next = u32::MAX - self.0.len() as u32;
        *self.0.entry(id.to_string()).or_insert(next)
    }
}

fn text_of(path: &Path) -> Result<String, EvalError> {
    let bytes = std::fs::read(path).map_err(|e| EvalError::Io(format!("{}: {e}", path.display())))?;
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s.trim_start_matches('\u{feff}').to_string(),
        Err(e) => e.into_bytes().iter().map(|&b| b as char).collect(),
    })
}

fn first_line(text: &str) -> &str {
    text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default()
}

/// Reads the titles file: each title's genres, by the title's number.
pub fn read_titles(path: &Path) -> Result<(Titles, Ids), EvalError> {
    let text = text_of(path)?;
    let first = first_line(&text);
    let mut ids = Ids::default();
    let mut genre_names: HashMap<String, u8> = HashMap::new();
    let mut genres: HashMap<u32, Vec<u8>> = HashMap::new();
    let mut put = |ids: &mut Ids, id: &str, flags: Vec<u8>| {
        genres.insert(ids.number(id), flags);
    };
    let mut genres_of = |names: &str, line: usize| -> Result<Vec<u8>, EvalError> {
        let mut out = Vec::new();
        for g in names.split('|').map(str::trim).filter(|g| !g.is_empty() && *g != NO_GENRE) {
            let n = match genre_names.get(g) {
                Some(n) => *n,
                None => {
                    let next = u8::try_from(genre_names.len())
                        .map_err(|_| EvalError::Format(format!("{}:{line}: more than 256 genres", path.display())))?;
                    genre_names.insert(g.to_string(), next);
                    next
                }
            };
            out.push(n);
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    };
    let is_flag = |f: &str| f == "0" || f == "1";
    // 100K's u.item: id|title|date|video date|url, then one 0/1 per genre.
    let first_flags: Vec<&str> = first.split('|').skip(5).collect();
    if first.contains("::") {
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let f: Vec<&str> = line.split("::").collect();
            if f.len() < 3 {
                return Err(EvalError::Format(format!("{}:{}: expected id::title::genres", path.display(), n + 1)));
            }
            let g = genres_of(f[f.len() - 1], n + 1)?;
            put(&mut ids, f[0], g);
        }
    } else if !first_flags.is_empty() && first_flags.iter().all(|f| is_flag(f.trim())) {
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let f: Vec<&str> = line.split('|').collect();
            if f.len() < 6 || f.len() > 5 + 256 || !f[5..].iter().all(|x| is_flag(x.trim())) {
                return Err(EvalError::Format(format!(
                    "{}:{}: expected id|title|date|video date|url|genre flags",
                    path.display(),
                    n + 1
                )));
            }
            let g = f[5..].iter().enumerate().filter(|(_, x)| x.trim() == "1").map(|(g, _)| g as u8).collect();
            put(&mut ids, f[0], g);
        }
    } else {
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
        // The (id, genres) columns a header row names; without one, each
        // row's first and last (a title with an unquoted comma still ends in
        // its genres).
        let mut named: Option<Option<(usize, usize)>> = None;
        for row in reader.records() {
            let row = row.map_err(|e| EvalError::Format(format!("{}: {e}", path.display())))?;
            let line = row.position().map_or(0, |p| p.line() as usize);
            if named.is_none() {
                let header =
                    |want: &[&str]| row.iter().position(|h| want.contains(&h.trim().to_ascii_lowercase().as_str()));
                let found = header(&["movieid", "itemid", "item", "id"]).zip(header(&[
                    "genres",
                    "genre",
                    "categories",
                    "category",
                ]));
                named = Some(found);
                if found.is_some() {
                    continue;
                }
            }
            let (id, genre) = named.flatten().unwrap_or((0, row.len().saturating_sub(1)));
            if row.len() < 3 || genre >= row.len() || id >= row.len() {
                return Err(EvalError::Format(format!("{}:{line}: expected id,title,genres", path.display())));
            }
            let g = genres_of(&row[genre], line)?;
            put(&mut ids, &row[id], g);
        }
    }
    if genres.values().all(Vec::is_empty) {
        return Err(EvalError::Format(format!("{}: no title has a genre", path.display())));
    }
    Ok((Titles { genres }, ids))
}

/// Reads the ratings, sorted by time (equal times in file order). Items the
/// titles file does not list are numbered after its own.
pub fn read_ratings(path: &Path, items: &mut Ids) -> Result<Vec<Rating>, EvalError> {
    let text = text_of(path)?;
    let first = first_line(&text);
    let separator = if first.contains("::") {
        "::"
    } else if first.contains('\t') {
        "\t"
    } else {
        ","
    };
    let mut users = Ids::default();
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split(separator).collect();
        let bad = || {
            EvalError::Format(format!(
                "{}:{}: expected user{s}item{s}rating{s}time",
                path.display(),
                n + 1,
                s = if separator == "\t" { "<TAB>" } else { separator }
            ))
        };
        if f.len() < 4 {
            return Err(bad());
        }
        // A header line (`userId,movieId,rating,timestamp`: no number in it) is skipped.
        if out.is_empty() && f[..4].iter().all(|x| x.trim().parse::<f64>().is_err()) {
            continue;
        }
        let rating = f[2].trim().parse::<f32>().map_err(|_| bad())?;
        if !rating.is_finite() {
            return Err(bad());
        }
        let time = f[3].trim().parse::<i64>().map_err(|_| bad())?;
        out.push(Rating { user: users.number(f[0]), item: items.number(f[1]), rating, time });
    }
    out.sort_by_key(|r| r.time);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// The same three titles and ratings in each release's layout read the same.
    #[test]
    fn every_movielens_layout_reads_alike() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let layouts = [
            (
                file(
                    d,
                    "u.item",
                    "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|1|1\n2|Heat (1995)|x||y|1|0|0|0\n3|Z|x||y|0|0|0|0\n",
                ),
                file(d, "u.data", "7\t1\t5\t30\n7\t2\t3\t10\n8\t1\t4\t20\n"),
            ),
            (
                file(
                    d,
                    "movies.dat",
                    "1::Toy Story (1995)::Animation|Children's\n2::Heat (1995)::Action\n3::Z::(no genres listed)\n",
                ),
                file(d, "ratings.dat", "7::1::5::30\n7::2::3::10\n8::1::4::20\n"),
            ),
            (
                file(
                    d,
                    "movies.csv",
                    "movieId,title,genres\n1,\"Toy Story, The (1995)\",Animation|Children\n2,Heat (1995),Action\n3,Z,(no genres listed)\n",
                ),
                file(d, "ratings.csv", "userId,movieId,rating,timestamp\n7,1,5.0,30\n7,2,3.0,10\n8,1,4.0,20\n"),
            ),
        ];
        for (items, ratings) in layouts {
            let (titles, mut ids) = read_titles(&items).unwrap();
            assert_eq!(titles.genres.len(), 3, "{}", items.display());
            assert_eq!(titles.genres[&1].len(), 2);
            assert_eq!(titles.genres[&2].len(), 1);
            assert!(titles.genres[&3].is_empty());
            let r = read_ratings(&ratings, &mut ids).unwrap();
            let seen: Vec<(u32, u32, f32, i64)> = r.iter().map(|r| (r.user, r.item, r.rating, r.time)).collect();
            assert_eq!(seen, [(7, 2, 3.0, 10), (8, 1, 4.0, 20), (7, 1, 5.0, 30)], "{}", ratings.display());
        }
    }

    #[test]
    fn half_stars_unknown_items_and_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (titles, mut ids) = read_titles(&file(d, "m.csv", "tt01,A,Drama\n2,B,Comedy\n")).unwrap();
        let r = read_ratings(&file(d, "r.csv", "u1,2,3.5,5\nu2,99,4.5,6\nu1,tt01,5,7\n"), &mut ids).unwrap();
        assert_eq!((r[0].item, r[0].rating), (2, 3.5));
        assert_eq!(r[1].item, 99);
        assert_eq!(titles.genres[&r[2].item].len(), 1, "text ids join the two files");
        // A title the titles file does not list is never a candidate.
        let (titles, mut ids) = read_titles(&file(d, "m2.csv", "1,A,Drama\n2,B,Drama\n")).unwrap();
        let r2 = read_ratings(&file(d, "r2.csv", "7,1,5,1\n7,99,4,2\n7,2,3,3\n"), &mut ids).unwrap();
        let demands = super::super::market::demands(&r2, &titles);
        let candidates: Vec<u32> = demands.iter().flat_map(|d| d.candidates.iter().map(|c| c.0)).collect();
        assert_eq!(candidates, [1, 2]);
        // Headerless, a title with an unquoted comma still ends in its genres.
        let (titles, _) = read_titles(&file(d, "m3.csv", "1,Good, the Bad,Western\n2,B,Drama\n")).unwrap();
        assert_eq!((titles.genres[&1].len(), titles.genres[&2].len()), (1, 1));
        assert_ne!(titles.genres[&1], titles.genres[&2]);
        assert_eq!(r[0].user, r[2].user);
        assert_ne!(r[0].user, r[1].user);
        let e = read_ratings(&file(d, "bad.csv", "1,2,4,5\n1,2,four,6\n"), &mut ids).unwrap_err();
        assert!(e.to_string().contains("bad.csv:2: expected user,item,rating,time"), "{e}");
        let e = read_titles(&file(d, "none.dat", "1::A::(no genres listed)\n")).unwrap_err();
        assert!(e.to_string().contains("no title has a genre"), "{e}");
    }
}
