//! `files::load`: the CSV instance format and its error messages.

use std::path::{Path, PathBuf};

use wantloop_alloc::files::load;
use wantloop_alloc::{AllocError, Edge, solve_optimal};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("wantloop-alloc-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, file: &str, text: &str) -> PathBuf {
        let p = self.0.join(file);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn files(&self, demands: &str, offers: &str, edges: &str) -> [PathBuf; 3] {
        [self.write("demands.csv", demands), self.write("offers.csv", offers), self.write("edges.csv", edges)]
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const DEMANDS: &str = "demand_id,quantity\nalice,2\nbob,1\n";
const OFFERS: &str = "offer_id,capacity\nx,1\ny,5\n";
const EDGES: &str = "demand_id,offer_id,score\nalice,x,1.0\nalice,y,0.9\nbob,x,0.8\n";

fn load3(p: &[PathBuf; 3]) -> Result<wantloop_alloc::files::LoadedInstance, AllocError> {
    load(&p[0], &p[1], &p[2])
}

/// Unwraps a parse error into (file name, line, reason).
fn parse_err(r: Result<wantloop_alloc::files::LoadedInstance, AllocError>) -> (String, usize, String) {
    match r {
        Err(AllocError::Parse { path, line, reason }) => {
            (Path::new(&path).file_name().unwrap().to_string_lossy().into_owned(), line, reason)
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn loads_and_solves_a_small_instance() {
    let dir = TempDir::new("ok");
    let p = dir.files(DEMANDS, OFFERS, EDGES);
    let loaded = load3(&p).unwrap();
    assert_eq!(loaded.demand_ids, ["alice", "bob"]);
    assert_eq!(loaded.offer_ids, ["x", "y"]);
    assert_eq!(loaded.instance.demand_qty, [2, 1]);
    assert_eq!(loaded.instance.offer_cap, [1, 5]);
    assert_eq!(
        loaded.instance.edges,
        [
            Edge { demand: 0, offer: 0, score: 1.0 },
            Edge { demand: 0, offer: 1, score: 0.9 },
            Edge { demand: 1, offer: 0, score: 0.8 },
        ]
    );
    // alice takes 2 units of y (1.8), bob takes x (0.8).
    let sol = solve_optimal(&loaded.instance).unwrap();
    assert_eq!(sol.flows, [(1, 2), (2, 1)]);
    assert!((sol.objective - 2.6).abs() < 1e-12);
}

#[test]
fn accepts_crlf_bom_blank_lines_and_quoted_ids() {
    let dir = TempDir::new("quoted");
    let p = dir.files(
        "\u{feff}demand_id,quantity\r\n\"a,1\",2\r\n\r\n\"say \"\"hi\"\"\",1\r\n",
        "offer_id,capacity\n x ,3\n",
        "demand_id,offer_id,score\n\"a,1\", x , 0.5 \n\"say \"\"hi\"\"\", x ,1e-1\n",
    );
    let loaded = load3(&p).unwrap();
    assert_eq!(loaded.demand_ids, ["a,1", "say \"hi\""]);
    assert_eq!(loaded.offer_ids, [" x "]);
    assert_eq!(loaded.instance.demand_qty, [2, 1]);
    assert_eq!(loaded.instance.edges.len(), 2);
    assert_eq!(loaded.instance.edges[1].score, 0.1);
}

#[test]
fn empty_file_is_an_error() {
    let dir = TempDir::new("empty");
    let p = dir.files("", OFFERS, EDGES);
    let (file, line, reason) = parse_err(load3(&p));
    assert_eq!((file.as_str(), line), ("demands.csv", 1));
    assert!(reason.contains("empty file"), "{reason}");
}

#[test]
fn bad_header_is_an_error() {
    let dir = TempDir::new("header");
    let p = dir.files(DEMANDS, "offer,capacity\nx,1\n", EDGES);
    let (file, line, reason) = parse_err(load3(&p));
    assert_eq!((file.as_str(), line), ("offers.csv", 1));
    assert!(reason.contains("bad header `offer,capacity`"), "{reason}");
}

#[test]
fn bad_numbers_name_the_line() {
    let dir = TempDir::new("numbers");
    let p = dir.files("demand_id,quantity\na,1\nb,-2\n", OFFERS, EDGES);
    let (file, line, reason) = parse_err(load3(&p));
    assert_eq!((file.as_str(), line), ("demands.csv", 3));
    assert!(reason.contains("quantity `-2`"), "{reason}");

    let p = dir.files(DEMANDS, "offer_id,capacity\nx,1\ny,99999999999\n", EDGES);
    let (file, line, reason) = parse_err(load3(&p));
    assert_eq!((file.as_str(), line), ("offers.csv", 3));
    assert!(reason.contains("capacity `99999999999`"), "{reason}");

    let p = dir.files(DEMANDS, OFFERS, "demand_id,offer_id,score\nalice,x,1\n\nbob,y,zero\n");
    let (file, line, reason) = parse_err(load3(&p));
    assert_eq!((file.as_str(), line), ("edges.csv", 4));
    assert!(reason.contains("score `zero`"), "{reason}");

    let p = dir.files(DEMANDS, OFFERS, "demand_id,offer_id,score\nalice,x,NaN\n");
    let (_, line, reason) = parse_err(load3(&p));
    assert_eq!(line, 2);
    assert!(reason.contains("not a finite number"), "{reason}");
}

#[test]
fn unknown_ids_in_edges_are_errors() {
    let dir = TempDir::new("unknown");
    let p = dir.files(DEMANDS, OFFERS, "demand_id,offer_id,score\nalice,x,1\ncarol,x,1\n");
    let (file, line, reason) = parse_err(load3(&p));
    assert_eq!((file.as_str(), line), ("edges.csv", 3));
    assert_eq!(reason, "unknown demand_id `carol`");

    let p = dir.files(DEMANDS, OFFERS, "demand_id,offer_id,score\nbob,z,1\n");
    let (_, line, reason) = parse_err(load3(&p));
    assert_eq!(line, 2);
    assert_eq!(reason, "unknown offer_id `z`");
}

#[test]
fn wrong_field_counts_and_duplicates_are_errors() {
    let dir = TempDir::new("fields");
    let p = dir.files(DEMANDS, OFFERS, "demand_id,offer_id,score\nalice,x\n");
    let (_, line, reason) = parse_err(load3(&p));
    assert_eq!(line, 2);
    assert!(reason.contains("expected 3 fields"), "{reason}");

    let p = dir.files("demand_id,quantity\na,1\na,2\n", OFFERS, EDGES);
    let (file, line, reason) = parse_err(load3(&p));
    assert_eq!((file.as_str(), line), ("demands.csv", 3));
    assert_eq!(reason, "duplicate id `a`");
}

#[test]
fn missing_file_is_an_io_error() {
    let dir = TempDir::new("missing");
    let p = dir.files(DEMANDS, OFFERS, EDGES);
    let missing = dir.0.join("nope.csv");
    let err = load(&p[0], &missing, &p[2]).unwrap_err();
    assert!(matches!(err, AllocError::Io { .. }));
    assert!(err.to_string().contains("nope.csv"));
}

/// Files above a few MiB are parsed by two threads: order and line numbers
/// must be the same as for a sequential parse.
#[test]
fn large_files_keep_order_and_line_numbers() {
    let dir = TempDir::new("large");
    let n = 400_000usize;
    let mut edges = String::from("demand_id,offer_id,score\n");
    for i in 0..n {
        edges.push_str(&format!("{},{},0.{:06}\n", if i % 2 == 0 { "alice" } else { "bob" }, "y", i % 1_000_000));
    }
    let p = dir.files(DEMANDS, OFFERS, &edges);
    let loaded = load3(&p).unwrap();
    assert_eq!(loaded.instance.edges.len(), n);
    for (i, e) in loaded.instance.edges.iter().enumerate() {
        assert_eq!(e.demand as usize, i % 2);
        assert_eq!(e.score, (i % 1_000_000) as f64 / 1e6);
    }

    // An error three quarters into the file: line = 1 (header) + index + 1.
    let bad = 3 * n / 4;
    let text: String = edges
        .lines()
        .enumerate()
        .map(|(l, s)| if l == bad + 1 { "carol,y,0.5\n".to_string() } else { format!("{s}\n") })
        .collect();
    let p = dir.files(DEMANDS, OFFERS, &text);
    let (file, line, reason) = parse_err(load3(&p));
    assert_eq!((file.as_str(), line), ("edges.csv", bad + 2));
    assert_eq!(reason, "unknown demand_id `carol`");
}
