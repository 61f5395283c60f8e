//! Instance files: three small CSV files, for benchmarks, the CLI and
//! checking results with external solvers.
//!
//! * `demands.csv`: header `demand_id,quantity`
//! * `offers.csv`: header `offer_id,capacity`
//! * `edges.csv`: header `demand_id,offer_id,score`
//!
//! Ids are arbitrary non-empty UTF-8 strings, unique within their file; they
//! may be quoted CSV-style (`"a,b"`, `""` for a literal quote). Quantities and
//! capacities are `u32`, scores finite decimal floats. Empty lines are
//! ignored; `\r\n` line endings and a UTF-8 byte-order mark are accepted.
//! Duplicate (demand, offer) pairs in `edges.csv` are kept as parallel edges.
//!
//! Hand-parsed rather than using a CSV crate because instance files reach
//! millions of lines: the whole file is read at once and lines are split in
//! place, so the common (unquoted) case allocates nothing per edge line.
//! Every error names the file, the 1-based line number and the reason.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};

use crate::{AllocError, Edge, Instance};

/// An instance together with the external ids of its demands and offers
/// (`demand_ids[i]` is the id of demand index `i`, likewise for offers).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadedInstance {
    /// The instance, with indices in file order.
    pub instance: Instance,
    /// Demand ids in `demands.csv` order.
    pub demand_ids: Vec<String>,
    /// Offer ids in `offers.csv` order.
    pub offer_ids: Vec<String>,
}

/// Loads and validates an instance from the three CSV files.
pub fn load(demands: &Path, offers: &Path, edges: &Path) -> Result<LoadedInstance, AllocError> {
    let (d, o, e) = (read(demands)?, read(offers)?, read(edges)?);
    parse((demands, &d), (offers, &o), (edges, &e))
}

/// Parses and validates an instance from the three files' contents; each path
/// only names its file in errors.
pub fn parse(
    demands: (&Path, &[u8]),
    offers: (&Path, &[u8]),
    edges: (&Path, &[u8]),
) -> Result<LoadedInstance, AllocError> {
    let (demand_ids, demand_qty, demand_index) = parse_nodes(demands, "demand_id,quantity", "quantity")?;
    let (offer_ids, offer_cap, offer_index) = parse_nodes(offers, "offer_id,capacity", "capacity")?;
    let edges = parse_edge_file(edges, &demand_index, &offer_index)?;
    let instance = Instance { demand_qty, offer_cap, edges };
    instance.validate()?;
    Ok(LoadedInstance { instance, demand_ids, offer_ids })
}

/// FxHash-style hasher with a final mix: ids are short and trusted enough
/// (a benchmark or the operator's own export) that SipHash's DoS resistance
/// is not worth its cost on millions of lookups.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0.rotate_left(5) ^ n as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    #[inline]
    fn finish(&self) -> u64 {
        let x = self.0;
        (x ^ (x >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ (x >> 32)
    }
}

type IdMap = HashMap<Box<[u8]>, u32, BuildHasherDefault<IdHasher>>;

/// A parse error at `line` of `path`.
fn err(path: &Path, line: usize, reason: impl Into<String>) -> AllocError {
    AllocError::Parse { path: PathBuf::from(path), line, reason: reason.into() }
}

fn read(path: &Path) -> Result<Vec<u8>, AllocError> {
    std::fs::read(path).map_err(|source| AllocError::Io { path: PathBuf::from(path), source })
}

/// Checks the header line and returns the bytes after it (a leading
/// byte-order mark and a `\r` before the newline are accepted).
fn body<'a>(path: &Path, buf: &'a [u8], header: &str) -> Result<&'a [u8], AllocError> {
    let buf = buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(buf);
    let (first, rest) = match buf.iter().position(|&b| b == b'\n') {
        Some(i) => (&buf[..i], &buf[i + 1..]),
        None => (buf, &buf[buf.len()..]),
    };
    let first = first.strip_suffix(b"\r").unwrap_or(first);
    if first == header.as_bytes() {
        return Ok(rest);
    }
    if buf.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(err(path, 1, format!("empty file (expected header `{header}`)")));
    }
    Err(err(path, 1, format!("bad header `{}` (expected `{header}`)", String::from_utf8_lossy(first))))
}

/// Non-empty lines of `body` with their 1-based line numbers, the first
/// line of `body` being line `first_line`. Strips a trailing `\r`.
fn lines(body: &[u8], first_line: usize) -> impl Iterator<Item = (usize, &[u8])> {
    body.split(|&b| b == b'\n')
        .enumerate()
        .map(move |(i, l)| (first_line + i, l.strip_suffix(b"\r").unwrap_or(l)))
        .filter(|(_, l)| !l.is_empty())
}

/// Splits a CSV line into exactly `N` fields. Unquoted fields are borrowed;
/// a field starting with `"` is parsed as a quoted field.
fn split<const N: usize>(line: &[u8]) -> Result<[Cow<'_, [u8]>; N], String> {
    let mut out: [Cow<'_, [u8]>; N] = std::array::from_fn(|_| Cow::Borrowed(&[][..]));
    let mut rest = line;
    for (i, slot) in out.iter_mut().enumerate() {
        let last = i + 1 == N;
        if rest.first() == Some(&b'"') {
            let (field, after) = quoted(rest)?;
            *slot = Cow::Owned(field);
            rest = after;
        } else {
            let end = rest.iter().position(|&b| b == b',').unwrap_or(rest.len());
            *slot = Cow::Borrowed(&rest[..end]);
            rest = &rest[end..];
        }
        match (rest.first(), last) {
            (Some(b','), false) => rest = &rest[1..],
            (None, true) => {}
            (None, false) => return Err(format!("expected {N} fields, found {}", i + 1)),
            (Some(_), true) => return Err(format!("expected {N} fields, found more")),
            (Some(_), false) => return Err("junk after quoted field".to_string()),
        }
    }
    Ok(out)
}

/// Parses a quoted field at the start of `s`; returns it and the rest.
fn quoted(s: &[u8]) -> Result<(Vec<u8>, &[u8]), String> {
    let mut field = Vec::new();
    let mut i = 1;
    loop {
        match s.get(i) {
            None => return Err("unterminated quoted field".to_string()),
            Some(b'"') if s.get(i + 1) == Some(&b'"') => {
                field.push(b'"');
                i += 2;
            }
            Some(b'"') => return Ok((field, &s[i + 1..])),
            Some(&b) => {
                field.push(b);
                i += 1;
            }
        }
    }
}

fn parse_u32(field: &[u8]) -> Option<u32> {
    let field = field.trim_ascii();
    if field.is_empty() || field.len() > 10 {
        return None;
    }
    let mut v: u64 = 0;
    for &b in field {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(b - b'0');
    }
    u32::try_from(v).ok()
}

fn parse_score(field: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(field.trim_ascii()).ok()?;
    let v: f64 = s.parse().ok()?;
    v.is_finite().then_some(v)
}

/// Loads `id,number` lines: ids, numbers and the id -> index map.
fn parse_nodes(
    (path, buf): (&Path, &[u8]),
    header: &str,
    what: &str,
) -> Result<(Vec<String>, Vec<u32>, IdMap), AllocError> {
    let mut ids = Vec::new();
    let mut nums = Vec::new();
    let mut index = IdMap::default();
    for (line_no, line) in lines(body(path, buf, header)?, 2) {
        let [id, num] = split::<2>(line).map_err(|r| err(path, line_no, r))?;
        if id.is_empty() {
            return Err(err(path, line_no, "empty id"));
        }
        let Ok(id_str) = std::str::from_utf8(&id) else {
            return Err(err(path, line_no, "id is not valid UTF-8"));
        };
        let Some(n) = parse_u32(&num) else {
            return Err(err(
                path,
                line_no,
                format!("{what} `{}` is not an integer in 0..=4294967295", String::from_utf8_lossy(&num)),
            ));
        };
        let next = u32::try_from(ids.len())
            .ok()
            .filter(|&i| i < u32::MAX / 4)
            .ok_or_else(|| err(path, line_no, "too many lines"))?;
        if index.insert(Box::from(&*id), next).is_some() {
            return Err(err(path, line_no, format!("duplicate id `{id_str}`")));
        }
        ids.push(id_str.to_owned());
        nums.push(n);
    }
    Ok((ids, nums, index))
}

/// Loads `demand_id,offer_id,score` lines. Large files are parsed by two
/// threads (the machine this targets has two cores), each taking half of
/// the lines; results are concatenated in file order.
fn parse_edge_file((path, buf): (&Path, &[u8]), demands: &IdMap, offers: &IdMap) -> Result<Vec<Edge>, AllocError> {
    let body = body(path, buf, "demand_id,offer_id,score")?;
    const PARALLEL_ABOVE: usize = 4 << 20;
    let split = if body.len() > PARALLEL_ABOVE {
        let mid = body.len() / 2;
        body[mid..].iter().position(|&b| b == b'\n').map_or(body.len(), |i| mid + i + 1)
    } else {
        body.len()
    };
    let (first, second) = body.split_at(split);
    let (r1, r2) = std::thread::scope(|scope| {
        let h = (!second.is_empty()).then(|| scope.spawn(|| parse_edges(second, demands, offers)));
        let r1 = parse_edges(first, demands, offers);
        let r2 = h.map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        (r1, r2)
    });
    // Line numbers: the body starts at line 2; the second half starts after
    // every newline of the first half.
    let mut edges = r1.map_err(|(i, reason)| err(path, 2 + i, reason))?;
    if let Some(r2) = r2 {
        let offset = 2 + first.iter().filter(|&&b| b == b'\n').count();
        edges.extend(r2.map_err(|(i, reason)| err(path, offset + i, reason))?);
    }
    Ok(edges)
}

/// Parses edge lines; on error returns the 0-based line index within
/// `chunk` and the reason.
fn parse_edges(chunk: &[u8], demands: &IdMap, offers: &IdMap) -> Result<Vec<Edge>, (usize, String)> {
    // A cheap lower bound on line length gives a good capacity guess.
    let mut edges = Vec::with_capacity(chunk.len() / 16);
    for (i, line) in lines(chunk, 0) {
        let [d, o, s] = split::<3>(line).map_err(|r| (i, r))?;
        let Some(&demand) = demands.get(&*d) else {
            return Err((i, format!("unknown demand_id `{}`", String::from_utf8_lossy(&d))));
        };
        let Some(&offer) = offers.get(&*o) else {
            return Err((i, format!("unknown offer_id `{}`", String::from_utf8_lossy(&o))));
        };
        let Some(score) = parse_score(&s) else {
            return Err((i, format!("score `{}` is not a finite number", String::from_utf8_lossy(&s))));
        };
        edges.push(Edge { demand, offer, score });
    }
    Ok(edges)
}
