//! `wantloop eval images`: retrieval on a folder of photos of objects.
//! `labels.csv` names each image (`path,object_id,…`); every image queries
//! all the others and the relevant ones are the other views of its object.
//! Reports mAP and P@10 by exact cosine, the HNSW index's recall@10
//! against exact search with its queries/s (one thread) at several `ef`,
//! the index's build time, and each block's mAP alone. `--tune` chooses
//! the block weights on the first half of the objects (validation) and
//! reports them on the second half (test) — the protocol that set the
//! product's weights.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde_json::{Value, json};
use wantloop_image::ann::{self, Index, Params};
use wantloop_image::features::{Blocks, Weights};
use wantloop_image::{Extractor, Limits};

use crate::EvalError;

pub struct Labelled {
    pub paths: Vec<PathBuf>,
    pub objects: Vec<String>,
}

/// `labels.csv` of `dir`: the path (relative to `dir`) and object of each image.
pub fn read_labels(dir: &Path) -> Result<Labelled, EvalError> {
    let file = dir.join("labels.csv");
    let mut reader = csv::Reader::from_path(&file).map_err(|e| EvalError::Io(format!("{}: {e}", file.display())))?;
    let headers = reader.headers().map_err(|e| EvalError::Format(format!("{}: {e}", file.display())))?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| EvalError::Format(format!("{}: no `{name}` column", file.display())))
    };
    let (path, object) = (column("path")?, column("object_id")?);
    let mut out = Labelled { paths: Vec::new(), objects: Vec::new() };
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| EvalError::Format(format!("{}:{}: {e}", file.display(), n + 2)))?;
        let field = |i: usize| record.get(i).map(str::trim).filter(|s| !s.is_empty());
        let (Some(p), Some(o)) = (field(path), field(object)) else {
            return Err(EvalError::Format(format!("{}:{}: empty path or object_id", file.display(), n + 2)));
        };
        out.paths.push(dir.join(p));
        out.objects.push(o.to_string());
    }
    if out.paths.len() < 2 {
        return Err(EvalError::Format(format!("{}: fewer than two images", file.display())));
    }
    Ok(out)
}

/// The extractor for `model` (the network's weights file), or the
/// hand-crafted one.
pub fn extractor(model: Option<&Path>) -> Result<Extractor, EvalError> {
    Ok(Extractor::from_weights(model)?)
}

/// Every image's blocks, in parallel.
pub fn blocks(extractor: &Extractor, paths: &[PathBuf]) -> Result<Vec<Blocks>, EvalError> {
    let limits = Limits::default();
    paths
        .par_iter()
        .map(|p| {
            let bytes = std::fs::read(p).map_err(|e| EvalError::Io(format!("{}: {e}", p.display())))?;
            let image = wantloop_image::decode(&bytes, &limits)
                .map_err(|e| EvalError::Format(format!("{}: {e}", p.display())))?;
            Ok(extractor.blocks(&image)?)
        })
        .collect()
}

/// mAP and P@10 when each of `subset` queries the others of `subset`.
fn retrieval(vectors: &[Vec<f32>], objects: &[String], subset: &[usize]) -> (f64, f64) {
    let per_query: Vec<(f64, f64)> = subset
        .par_iter()
        .map(|&q| {
            let mut scored: Vec<(f32, usize)> =
                subset.iter().filter(|&&i| i != q).map(|&i| (ann::dot(&vectors[q], &vectors[i]), i)).collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let relevant = scored.iter().filter(|(_, i)| objects[*i] == objects[q]).count();
            let (mut hits, mut ap, mut p10) = (0usize, 0.0, 0.0);
            for (rank, (_, i)) in scored.iter().enumerate() {
                if objects[*i] == objects[q] {
                    hits += 1;
                    ap += hits as f64 / (rank + 1) as f64;
                    if rank < 10 {
                        p10 += 0.1;
                    }
                }
            }
            (if relevant > 0 { ap / relevant as f64 } else { 0.0 }, p10)
        })
        .collect();
    let n = per_query.len() as f64;
    (per_query.iter().map(|x| x.0).sum::<f64>() / n, per_query.iter().map(|x| x.1).sum::<f64>() / n)
}

/// Recall@10 of the index against exact search, and queries/s on one
/// thread, each image querying the others (passes repeated for at least
/// half a second, so the rate is not a few milliseconds' noise).
fn ann_point(index: &Index, vectors: &[Vec<f32>]) -> (f64, f64) {
    let pass = || -> Vec<Vec<usize>> {
        vectors
            .iter()
            .enumerate()
            .map(|(q, v)| index.search(v, 11, None).into_iter().map(|h| h.id).filter(|&i| i != q).take(10).collect())
            .collect()
    };
    let started = Instant::now();
    let found = pass();
    let mut passes = 1;
    while started.elapsed().as_secs_f64() < 0.5 {
        std::hint::black_box(pass());
        passes += 1;
    }
    let qps = (passes * vectors.len()) as f64 / started.elapsed().as_secs_f64();
    let recall: f64 = vectors
        .par_iter()
        .enumerate()
        .map(|(q, v)| {
            let truth: Vec<usize> =
                ann::exact(vectors, v, 11, None).into_iter().map(|h| h.id).filter(|&i| i != q).take(10).collect();
            truth.iter().filter(|t| found[q].contains(t)).count() as f64 / truth.len().max(1) as f64
        })
        .sum::<f64>()
        / vectors.len() as f64;
    (recall, qps)
}

pub struct Options {
    pub model: Option<PathBuf>,
    pub tune: bool,
}

pub fn run(dir: &Path, opt: &Options) -> Result<Value, EvalError> {
    let labels = read_labels(dir)?;
    let mut extractor = extractor(opt.model.as_deref())?;
    let started = Instant::now();
    let blocks = blocks(&extractor, &labels.paths)?;
    let extract_seconds = started.elapsed().as_secs_f64();
    let all: Vec<usize> = (0..labels.paths.len()).collect();
    let objects = &labels.objects;
    let mut ids: Vec<&String> = objects.iter().collect();
    ids.sort_unstable_by(|a, b| natural(a).cmp(&natural(b)));
    ids.dedup();

    let tuning = if opt.tune {
        // Validation: the first half of the objects (in id order); test: the rest.
        let half: std::collections::HashSet<&String> = ids[..ids.len() / 2].iter().copied().collect();
        let (valid, test): (Vec<usize>, Vec<usize>) = all.iter().partition(|&&i| half.contains(&objects[i]));
        let grid = weight_grid(blocks[0].learned.is_some());
        let score = |w: &Weights, subset: &[usize]| {
            let v: Vec<Vec<f32>> = blocks.iter().map(|b| b.combine(w)).collect();
            retrieval(&v, objects, subset).0
        };
        let mut trials: Vec<(Weights, f64)> = grid.iter().map(|w| (*w, score(w, &valid))).collect();
        trials.sort_by(|a, b| b.1.total_cmp(&a.1));
        let chosen = trials[0].0;
        let report = json!({
            "validation_objects": half.len(), "test_objects": ids.len() - half.len(),
            "chosen": chosen, "chosen_validation_map": trials[0].1, "chosen_test_map": score(&chosen, &test),
            "default": extractor.weights(), "default_validation_map": score(&extractor.weights(), &valid),
            "default_test_map": score(&extractor.weights(), &test),
            "trials": trials.iter().map(|(w, m)| json!({"weights": w, "validation_map": m})).collect::<Vec<_>>(),
        });
        extractor = extractor.with_weights(chosen);
        Some(report)
    } else {
        None
    };

    let vectors: Vec<Vec<f32>> = blocks.iter().map(|b| b.combine(&extractor.weights())).collect();
    let (map, p10) = retrieval(&vectors, objects, &all);
    let alone = |w: Weights| retrieval(&blocks.iter().map(|b| b.combine(&w)).collect::<Vec<_>>(), objects, &all).0;
    let zero = Weights { learned: 0.0, colour: 0.0, texture: 0.0, shape: 0.0 };
    let mut per_block = json!({
        "colour": alone(Weights { colour: 1.0, ..zero }),
        "texture": alone(Weights { texture: 1.0, ..zero }),
        "shape": alone(Weights { shape: 1.0, ..zero }),
        "hand_crafted_combined": alone(Weights::HAND_CRAFTED),
    });
    if blocks[0].learned.is_some() {
        per_block["learned"] = json!(alone(Weights { learned: 1.0, ..zero }));
    }

    let params = Params::default();
    // The median of three builds: at a few hundred vectors one build takes
    // tens of milliseconds, and a single timing is noise (the bench times
    // hnswlib the same way).
    let mut builds = Vec::new();
    let mut index = Index::build(&[], params);
    for _ in 0..3 {
        let started = Instant::now();
        index = Index::build(&vectors, params);
        builds.push(started.elapsed().as_secs_f64());
    }
    builds.sort_by(f64::total_cmp);
    let build_seconds = builds[1];
    let curve: Vec<Value> = [10, 20, 40, 80]
        .into_iter()
        .map(|ef| {
            index.set_ef_search(ef);
            let (recall, qps) = ann_point(&index, &vectors);
            json!({"ef": ef, "recall@10": recall, "queries_per_second": qps})
        })
        .collect();
    index.set_ef_search(params.ef_search);
    let (recall, qps) = ann_point(&index, &vectors);
    Ok(json!({
        "dir": dir.display().to_string(),
        "images": vectors.len(),
        "objects": ids.len(),
        "feature_set": extractor.set(),
        "features": extractor.describe(),
        "weights": extractor.weights(),
        "dimensions": vectors[0].len(),
        "map": map,
        "p@10": p10,
        "map_per_block": per_block,
        "extract_images_per_second": vectors.len() as f64 / extract_seconds,
        "ann": {
            "library": "wantloop", "m": params.m, "ef_construction": params.ef_construction, "ef": params.ef_search,
            "build_seconds": build_seconds, "recall@10": recall, "queries_per_second": qps,
            "threads_for_queries": 1, "curve": curve,
        },
        "tuning": tuning,
    }))
}

/// Numbers in numeric order ("2" before "10"), other ids after, by text.
fn natural(id: &str) -> (u64, &str) {
    (id.parse().unwrap_or(u64::MAX), id)
}

/// The weights tried by `--tune`: each block 0, ½ or 1 relative to colour
/// (or to the network's embedding when there is one).
fn weight_grid(learned: bool) -> Vec<Weights> {
    let steps = [0.0, 0.25, 0.5, 1.0];
    let mut out = Vec::new();
    for &texture in &steps {
        for &shape in &steps {
            if learned {
                for &colour in &steps {
                    out.push(Weights { learned: 1.0, colour, texture, shape });
                }
            } else {
                out.push(Weights { learned: 0.0, colour: 1.0, texture, shape });
            }
        }
    }
    out
}

/// Every image's vector in `labels.csv` order, as a NumPy `.npy` file (for
/// peers to index the same vectors).
pub fn export_vectors(dir: &Path, model: Option<&Path>, out: &Path) -> Result<usize, EvalError> {
    let labels = read_labels(dir)?;
    let extractor = extractor(model)?;
    let vectors: Vec<Vec<f32>> =
        blocks(&extractor, &labels.paths)?.iter().map(|b| b.combine(&extractor.weights())).collect();
    let dim = vectors[0].len();
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {dim}), }}", vectors.len());
    // Magic (6) + version (2) + length (2) + header + newline, to a multiple of 64.
    let pad = 64 - (10 + header.len() + 1) % 64;
    header.push_str(&" ".repeat(pad % 64));
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    for v in &vectors {
        bytes.extend(v.iter().flat_map(|x| x.to_le_bytes()));
    }
    std::fs::write(out, bytes).map_err(|e| EvalError::Io(format!("{}: {e}", out.display())))?;
    Ok(vectors.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_their_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("labels.csv"), "path,object_id\na.png,1\n,2\n").unwrap();
        let e = read_labels(dir.path()).err().unwrap().to_string();
        assert!(e.contains("labels.csv:3") && e.contains("empty"), "{e}");
        std::fs::write(dir.path().join("labels.csv"), "path,object_id\na.png,1\n").unwrap();
        assert!(read_labels(dir.path()).err().unwrap().to_string().contains("fewer than two"));
    }

    #[test]
    fn retrieval_scores_a_perfect_and_a_reversed_ranking() {
        // Two objects, two views each, on orthogonal axes: every query's
        // one relevant image comes first.
        let v = vec![vec![1.0, 0.0], vec![0.99, 0.141], vec![0.0, 1.0], vec![0.141, 0.99]];
        let objects: Vec<String> = ["a", "a", "b", "b"].iter().map(|s| s.to_string()).collect();
        let (map, p10) = retrieval(&v, &objects, &[0, 1, 2, 3]);
        assert!((map - 1.0).abs() < 1e-9);
        // P@10 counts the one relevant image among ten places.
        assert!((p10 - 0.1).abs() < 1e-9);
        // Two views of one object pointing apart, each nearer two other
        // objects: its relevant image is ranked last of three (AP = 1/3);
        // the single-view objects have nothing relevant (AP = 0).
        let v = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![0.8, 0.6], vec![0.6, 0.8]];
        let objects: Vec<String> = ["a", "a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let (map, _) = retrieval(&v, &objects, &[0, 1, 2, 3]);
        assert!((map - (1.0 / 3.0 + 1.0 / 3.0) / 4.0).abs() < 1e-9, "{map}");
    }
}
