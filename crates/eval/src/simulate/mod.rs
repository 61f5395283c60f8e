//! `wantloop simulate`: the loop replayed on logged ratings. Ratings sorted
//! by time; the first half is the warm-up (known history), the rest is cut
//! into rounds. In each round every demand (`market.rs`) gets proposals from
//! each arm, only the outcomes of what an arm proposed are revealed to it,
//! and the learning arms retrain. A replay on logged data, not an online
//! estimate: people's ratings do not depend on what was proposed to them,
//! and only titles they did rate can be proposed.
//!
//! The market launches with the v1 weights: the first ranker learns from
//! the outcomes of v1's proposals in the warm-up's last quarter (`warm_set`).
//! Arms: the v1 weights; that ranker, frozen with
//! the market's signals as they were then (`frozen`: the loop switched off);
//! the same ranker with its weights frozen but the signals fed by its
//! revealed outcomes (`frozen_model`); the ranker retrained after each round
//! on its own revealed outcomes, signals fed likewise (`retrained`: the
//! loop); random order; and a ranker retrained on every outcome of every
//! candidate (an upper bound, not a policy). All read the product's
//! features from the knowledge each arm has (`knowledge.rs`). Each seed
//! replays a different 80% of the people, so seeds differ in who is in the
//! market.

mod files;
mod knowledge;
mod market;
mod stats;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use wantloop_core::FeatureScores;
use wantloop_match::{Scoring, Weights};
use wantloop_ml::ranker::{self, RankSet, Ranker};

use knowledge::{Knowledge, Snapshot, accepted};
use market::{Demand, Rating, Titles};
use stats::{Calibration, Interval, bootstrap, bootstrap_two_level};

use crate::EvalError;

#[derive(Debug, Clone)]
pub struct Options {
    pub rounds: usize,
    pub seed: u64,
    pub seeds: usize,
    /// Proposals per demand; acceptance@k is the accepted share of them.
    pub k: usize,
    /// Copies of each title in the allocation comparison.
    pub copies: u32,
}

const ARMS: [&str; 6] = ["v1", "frozen", "frozen_model", "retrained", "random", "upper_bound"];
const SHARE_OF_PEOPLE: f64 = 0.8;
/// Seeds one run replays at most (about 17 s each on MovieLens-100K, far
/// more on larger files): a mistyped count is refused, not run for days.
pub const MAX_SEEDS: usize = 100;

pub fn run(ratings: &Path, items: &Path, opt: &Options) -> Result<Value, EvalError> {
    if opt.rounds == 0 || opt.seeds == 0 || opt.k == 0 || opt.copies == 0 {
        return Err(EvalError::Format("--rounds, --seeds, --k and --copies must be at least 1".into()));
    }
    if opt.seeds > MAX_SEEDS {
        return Err(EvalError::Format(format!("--seeds {} is more than {MAX_SEEDS}", opt.seeds)));
    }
    let (titles, mut item_ids) = files::read_titles(items)?;
    let all = files::read_ratings(ratings, &mut item_ids)?;
    if all.len() < 100 * opt.rounds {
        return Err(EvalError::Format(format!("{} ratings are too few for {} rounds", all.len(), opt.rounds)));
    }
    let replays: Vec<Replay> = (0..opt.seeds as u64)
        .map(|s| replay(&all, &titles, opt, opt.seed.wrapping_add(s)))
        .collect::<Result<_, _>>()?;
    let across = gain_across_seeds(&replays, opt.seed);
    let mut summary = summarise(replays.into_iter().map(|r| r.report).collect(), opt);
    summary["goals"]["retrained_beats_frozen_over_the_later_rounds_across_seeds_interval_excludes_0"] =
        json!(across.low > 0.0);
    summary["goals"]["later_rounds_retrained_minus_frozen_across_seeds"] = json!(across);
    Ok(summary)
}

/// One seed's replay: its report, and per person the retrained arm's mean
/// acceptance over the later rounds minus the frozen arm's.
struct Replay {
    report: Value,
    later_gain: BTreeMap<u32, f64>,
}

/// The later rounds' gain of retraining over the frozen ranker with one
/// interval for all seeds: the mean of the seeds' means, with a two-level
/// bootstrap (seeds, then their people), so it carries what differs
/// between seeds (who is in the market, the models trained, ties) as well
/// as the people. A seed's own interval holds its models fixed.
fn gain_across_seeds(replays: &[Replay], seed: u64) -> Interval {
    let groups: Vec<Vec<f64>> = replays.iter().map(|r| r.later_gain.values().copied().collect()).collect();
    bootstrap_two_level(&groups, seed)
}

/// One arm's state: its knowledge, its model and the rows it learns from.
struct Arm {
    name: &'static str,
    knowledge: Knowledge,
    scoring: Option<Scoring>,
    log: RankSet,
}

/// Scores a round's demands for one arm: per demand, its candidates' scores
/// and features.
fn score_round(
    arm: &Arm,
    snapshot: &mut Snapshot,
    demands: &[Demand],
    listed: &HashMap<u32, i64>,
    now: i64,
    rng: &mut StdRng,
) -> Vec<Vec<(f64, FeatureScores)>> {
    demands
        .iter()
        .map(|d| {
            d.candidates
                .iter()
                .map(|(item, _)| {
                    let f = snapshot.features(d.user, *item, listed.get(item).copied().unwrap_or(now), now);
                    let score = match &arm.scoring {
                        Some(s) => s.score(&f),
                        None => rng.random::<f64>(),
                    };
                    (score, f)
                })
                .collect()
        })
        .collect()
}

/// Candidate positions best first (ties: the order the person rated them in).
fn order(scored: &[(f64, FeatureScores)]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scored.len()).collect();
    idx.sort_by(|&a, &b| scored[b].0.total_cmp(&scored[a].0));
    idx
}

fn rows(f: &FeatureScores) -> Vec<f64> {
    f.vector().to_vec()
}

/// What the market had learnt by the end of the warm-up, as a launch would
/// have it: the warm-up's last quarter served by the v1 weights, and only
/// the outcomes of their top `k` proposals logged (features from the three
/// quarters before). A demand with one logged row joins its day's pooled
/// query, as the engine's outcomes do.
fn warm_set(warm: &[Rating], titles: &Titles, listed: &HashMap<u32, i64>, k: usize) -> RankSet {
    let cut = warm.len() * 3 / 4;
    let mut snapshot = Knowledge::from_ratings(&warm[..cut]).snapshot(true);
    let now = warm[cut].time;
    let v1 = Scoring::Weights(Weights::default());
    let mut set = RankSet::new(FeatureScores::NAMES.iter().map(|s| s.to_string()).collect());
    let mut pooled = Pooled::default();
    for (q, d) in market::demands(&warm[cut..], titles).iter().enumerate() {
        let scored: Vec<(f64, FeatureScores)> = d
            .candidates
            .iter()
            .map(|(item, _)| {
                let f = snapshot.features(d.user, *item, listed.get(item).copied().unwrap_or(now), now);
                (v1.score(&f), f)
            })
            .collect();
        let logged: Vec<(f64, Vec<f64>)> = order(&scored)
            .into_iter()
            .take(k)
            .map(|i| (f64::from(u8::from(accepted(d.candidates[i].1))), rows(&scored[i].1)))
            .collect();
        if logged.len() > 1 {
            set.push_query(format!("warm-{q}"), logged);
        } else {
            pooled.add(d.time, logged);
        }
    }
    pooled.into(&mut set, "warm");
    set
}

/// Single logged rows pooled per day of their demand, as the engine's
/// outcomes pool a day's single proposals.
#[derive(Default)]
struct Pooled(BTreeMap<i64, Vec<(f64, Vec<f64>)>>);

impl Pooled {
    fn add(&mut self, time: i64, rows: Vec<(f64, Vec<f64>)>) {
        self.0.entry(time.div_euclid(86_400)).or_default().extend(rows);
    }

    fn into(self, set: &mut RankSet, prefix: &str) {
        for (day, rows) in self.0 {
            set.push_query(format!("{prefix}-day{day}"), rows);
        }
    }
}

fn joined(a: &RankSet, b: &RankSet) -> RankSet {
    let mut out = a.clone();
    for (q, r) in b.queries.iter().enumerate() {
        out.push_query(b.query_ids[q].clone(), r.clone().map(|i| (b.labels[i], b.row(i).to_vec())));
    }
    out
}

fn learned(model: Ranker) -> Scoring {
    Scoring::Ranker { model: Arc::new(model), id: 0 }
}

fn replay(all: &[Rating], titles: &Titles, opt: &Options, seed: u64) -> Result<Replay, EvalError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut people: Vec<u32> = all.iter().map(|r| r.user).collect();
    people.sort_unstable();
    people.dedup();
    people.shuffle(&mut rng);
    people.truncate((people.len() as f64 * SHARE_OF_PEOPLE).round() as usize);
    people.sort_unstable();
    let ratings: Vec<Rating> = all.iter().filter(|r| people.binary_search(&r.user).is_ok()).copied().collect();
    let listed = market::listed_at(&ratings);
    let half = ratings.len() / 2;
    let (warm, rest) = ratings.split_at(half);

    let started = std::time::Instant::now();
    let warm_rows = warm_set(warm, titles, &listed, opt.k);
    let tuning = ranker::tune(&warm_rows)?;
    let (frozen, _) = ranker::fit(&warm_rows, None, &tuning.chosen)?;
    let calibration = {
        let scores: Vec<f64> = (0..warm_rows.len()).map(|i| frozen.score(warm_rows.row(i))).collect();
        let labels: Vec<bool> = warm_rows.labels.iter().map(|l| *l > 0.0).collect();
        Calibration::fit(&scores, &labels)
    };
    let known = Knowledge::from_ratings(warm);
    let names: Vec<String> = FeatureScores::NAMES.iter().map(|s| s.to_string()).collect();
    let mut arms: Vec<Arm> = ARMS
        .iter()
        .map(|name| Arm {
            name,
            knowledge: known.clone(),
            scoring: match *name {
                "v1" => Some(Scoring::Weights(Weights::default())),
                "random" => None,
                _ => Some(learned(frozen.clone())),
            },
            log: RankSet::new(names.clone()),
        })
        .collect();

    let per_round = rest.len() / opt.rounds;
    let mut rounds = Vec::new();
    // Per arm and person, acceptance in each of the later half's rounds.
    let mut later: BTreeMap<&str, HashMap<u32, Vec<f64>>> = BTreeMap::new();
    for r in 0..opt.rounds {
        let slice = &rest[r * per_round..if r + 1 == opt.rounds { rest.len() } else { (r + 1) * per_round }];
        let demands = market::demands(slice, titles);
        let now = slice[0].time;
        let base: Vec<f64> = demands
            .iter()
            .map(|d| d.candidates.iter().filter(|(_, x)| accepted(*x)).count() as f64 / d.candidates.len() as f64)
            .collect();
        let mut per_arm: BTreeMap<&str, HashMap<u32, Vec<f64>>> = BTreeMap::new();
        let mut retrained_scores = Vec::new();
        for arm in arms.iter_mut() {
            let needs_signals = !matches!(arm.name, "v1" | "random");
            let mut snapshot = arm.knowledge.snapshot(needs_signals);
            let scored = score_round(arm, &mut snapshot, &demands, &listed, now, &mut rng);
            let mut pooled = Pooled::default();
            let mut by_user: HashMap<u32, Vec<f64>> = HashMap::new();
            for (q, (d, s)) in demands.iter().zip(&scored).enumerate() {
                let top: Vec<usize> = order(s).into_iter().take(opt.k).collect();
                let hits = top.iter().filter(|&&i| accepted(d.candidates[i].1)).count();
                by_user.entry(d.user).or_default().push(hits as f64 / top.len() as f64);
                // What is revealed: the proposed titles' outcomes (all of
                // them to the upper bound).
                let revealed: Vec<usize> =
                    if arm.name == "upper_bound" { (0..d.candidates.len()).collect() } else { top };
                let learns = arm.name != "frozen";
                let labelled: Vec<(f64, Vec<f64>)> = revealed
                    .iter()
                    .map(|&i| {
                        let (item, rating) = d.candidates[i];
                        if learns {
                            arm.knowledge.add_rating(d.user, item, rating);
                            arm.knowledge.add_outcome(item, accepted(rating));
                        }
                        (f64::from(u8::from(accepted(rating))), rows(&s[i].1))
                    })
                    .collect();
                // As the engine's outcomes: a demand with one revealed row
                // is pooled with the other single rows of its day.
                if labelled.len() > 1 {
                    arm.log.push_query(format!("r{r}-q{q}"), labelled);
                } else {
                    pooled.add(d.time, labelled);
                }
            }
            pooled.into(&mut arm.log, &format!("r{r}"));
            if arm.name == "retrained" {
                retrained_scores = scored.iter().map(|s| s.iter().map(|x| x.0).collect::<Vec<f64>>()).collect();
            }
            if r >= opt.rounds / 2 {
                let whole = later.entry(arm.name).or_default();
                for (u, v) in &by_user {
                    whole.entry(*u).or_default().extend(v);
                }
            }
            per_arm.insert(arm.name, by_user);
        }
        let allocation = allocate(&demands, &retrained_scores, &calibration, opt.copies)?;
        // Retrain the learning arms on what they know now.
        // With the warm-up's tuned parameters: tuning anew each round, as the
        // engine's retraining does, took 50 times as long (280 s a seed) for
        // the same result (later rounds' gain over frozen +0.044, +0.039,
        // +0.006, +0.007, +0.077 against +0.036, +0.048, +0.009, +0.007, +0.046).
        for arm in arms.iter_mut().filter(|a| matches!(a.name, "retrained" | "upper_bound")) {
            let (model, _) = ranker::fit(&joined(&warm_rows, &arm.log), None, &tuning.chosen)?;
            arm.scoring = Some(learned(model));
        }
        rounds.push(round_report(r, &demands, &base, &per_arm, allocation, seed));
    }
    let arm = |name: &str| later.get(name).map(means).unwrap_or_default();
    let frozen = arm("frozen");
    let later_gain = arm("retrained").into_iter().filter_map(|(u, x)| frozen.get(&u).map(|f| (u, x - f))).collect();
    let report = json!({
        "later_rounds": compare(&later, seed),
        "seed": seed, "people": people.len(), "ratings": ratings.len(), "warm_up_ratings": warm.len(),
        "warm_up_queries": warm_rows.queries.len(), "ranker_params": tuning.chosen,
        "seconds": started.elapsed().as_secs_f64(), "rounds": rounds,
    });
    Ok(Replay { report, later_gain })
}

/// Per person, their mean acceptance over the round's demands.
fn means(by_user: &HashMap<u32, Vec<f64>>) -> BTreeMap<u32, f64> {
    by_user.iter().map(|(u, v)| (*u, v.iter().sum::<f64>() / v.len() as f64)).collect()
}

/// Acceptance per arm and the paired differences that matter, with
/// intervals over people (each person's mean over the rounds given).
fn compare(per_arm: &BTreeMap<&str, HashMap<u32, Vec<f64>>>, seed: u64) -> Value {
    let arm_means: BTreeMap<&str, BTreeMap<u32, f64>> = per_arm.iter().map(|(k, v)| (*k, means(v))).collect();
    let acceptance: BTreeMap<&str, Interval> =
        arm_means.iter().map(|(k, m)| (*k, bootstrap(&m.values().copied().collect::<Vec<_>>(), seed))).collect();
    let paired = |a: &str, b: &str| {
        let (a, b) = (&arm_means[a], &arm_means[b]);
        let diffs: Vec<f64> = a.iter().map(|(u, x)| x - b[u]).collect();
        bootstrap(&diffs, seed)
    };
    json!({
        "people": arm_means.get("v1").map_or(0, BTreeMap::len),
        "acceptance": acceptance,
        "retrained_minus_frozen": paired("retrained", "frozen"),
        "retrained_minus_frozen_model": paired("retrained", "frozen_model"),
        "retrained_minus_random": paired("retrained", "random"),
        "retrained_minus_v1": paired("retrained", "v1"),
        // The headroom: what learning from every candidate's outcome gains.
        "upper_bound_minus_frozen": paired("upper_bound", "frozen"),
    })
}

fn round_report(
    r: usize,
    demands: &[Demand],
    base: &[f64],
    per_arm: &BTreeMap<&str, HashMap<u32, Vec<f64>>>,
    allocation: Value,
    seed: u64,
) -> Value {
    let mut out = compare(per_arm, seed);
    out["round"] = json!(r + 1);
    out["demands"] = json!(demands.len());
    out["base_rate"] = json!(base.iter().sum::<f64>() / base.len().max(1) as f64);
    out["allocation"] = allocation;
    out
}

/// Each demand wants one title; each title has `copies`. Edges weigh the
/// retrained ranker's calibrated acceptance probability, so the exact
/// optimum maximises expected satisfied demands; greedy takes the best
/// edges first. Satisfied = the allocated title was rated ≥ 4.
fn allocate(
    demands: &[Demand],
    scores: &[Vec<f64>],
    calibration: &Calibration,
    copies: u32,
) -> Result<Value, EvalError> {
    let mut offer_node: HashMap<u32, u32> = HashMap::new();
    let mut instance =
        wantloop_alloc::Instance { demand_qty: vec![1; demands.len()], offer_cap: Vec::new(), edges: Vec::new() };
    let mut good = Vec::new();
    for (di, (d, s)) in demands.iter().zip(scores).enumerate() {
        for ((item, rating), score) in d.candidates.iter().zip(s) {
            let oi = *offer_node.entry(*item).or_insert_with(|| {
                instance.offer_cap.push(copies);
                (instance.offer_cap.len() - 1) as u32
            });
            instance.edges.push(wantloop_alloc::Edge {
                demand: di as u32,
                offer: oi,
                score: calibration.probability(*score),
            });
            good.push(accepted(*rating));
        }
    }
    let alloc_error = |e: wantloop_alloc::AllocError| EvalError::Format(e.to_string());
    let exact = wantloop_alloc::solve_optimal(&instance).map_err(alloc_error)?;
    let greedy = wantloop_alloc::solve_greedy(&instance).map_err(alloc_error)?;
    let satisfied = |s: &wantloop_alloc::Solution| {
        s.flows.iter().filter(|(e, u)| *u > 0 && good[*e]).map(|(_, u)| *u as u64).sum::<u64>()
    };
    Ok(json!({
        "titles": instance.offer_cap.len(), "copies": copies,
        "exact": {"allocated": exact.units, "satisfied": satisfied(&exact), "expected": exact.objective},
        "greedy": {"allocated": greedy.units, "satisfied": satisfied(&greedy), "expected": greedy.objective},
    }))
}

/// Means over the seeds per round and arm, and the goals.
fn summarise(runs: Vec<Value>, opt: &Options) -> Value {
    let n = runs.len() as f64;
    let mean_of =
        |r: usize, path: &dyn Fn(&Value) -> f64| runs.iter().map(|run| path(&run["rounds"][r])).sum::<f64>() / n;
    let per_round: Vec<Value> = (0..opt.rounds)
        .map(|r| {
            let arms: BTreeMap<&str, f64> =
                ARMS.iter().map(|a| (*a, mean_of(r, &|x| x["acceptance"][a]["mean"].as_f64().unwrap_or(0.0)))).collect();
            let low = |k: &str| {
                runs.iter().map(|run| run["rounds"][r][k]["low"].as_f64().unwrap_or(0.0)).fold(f64::INFINITY, f64::min)
            };
            json!({
                "round": r + 1,
                "base_rate": mean_of(r, &|x| x["base_rate"].as_f64().unwrap_or(0.0)),
                "acceptance": arms,
                "retrained_minus_frozen": mean_of(r, &|x| x["retrained_minus_frozen"]["mean"].as_f64().unwrap_or(0.0)),
                "retrained_minus_frozen_lowest_interval_low": low("retrained_minus_frozen"),
                "retrained_minus_frozen_model": mean_of(r, &|x| x["retrained_minus_frozen_model"]["mean"].as_f64().unwrap_or(0.0)),
                "retrained_minus_random_lowest_interval_low": low("retrained_minus_random"),
                "exact_satisfied": mean_of(r, &|x| x["allocation"]["exact"]["satisfied"].as_f64().unwrap_or(0.0)),
                "greedy_satisfied": mean_of(r, &|x| x["allocation"]["greedy"]["satisfied"].as_f64().unwrap_or(0.0)),
            })
        })
        .collect();
    let later = opt.rounds / 2..opt.rounds;
    let at5 = opt.rounds.min(5) - 1;
    let acc = |r: usize, arm: &str| per_round[r]["acceptance"][arm].as_f64().unwrap_or(0.0);
    let exact: f64 = per_round.iter().map(|p| p["exact_satisfied"].as_f64().unwrap_or(0.0)).sum();
    let greedy: f64 = per_round.iter().map(|p| p["greedy_satisfied"].as_f64().unwrap_or(0.0)).sum();
    json!({
        "label": "a replay on logged ratings, not an online estimate",
        "protocol": format!(
            "ratings by time; first half warm-up; rest in {} rounds; demand = (person, genre) with >= 2 titles rated in the round; \
             candidates = those titles; accepted = rating >= 4; acceptance@{k} = accepted share of the top {k}; \
             95% bootstrap intervals over people (1,000 resamples); {} seeds, each replaying a different 80% of people",
            opt.rounds, opt.seeds, k = opt.k
        ),
        "k": opt.k,
        "per_round": per_round,
        "goals": {
            "retrained_beats_frozen_in_each_later_round_interval_excludes_0":
                later.clone().all(|r| per_round[r]["retrained_minus_frozen_lowest_interval_low"].as_f64().unwrap_or(0.0) > 0.0),
            "retrained_beats_frozen_over_the_later_rounds_interval_excludes_0_every_seed":
                runs.iter().all(|run| run["later_rounds"]["retrained_minus_frozen"]["low"].as_f64().unwrap_or(0.0) > 0.0),
            "later_rounds_retrained_minus_frozen": runs.iter().map(|run| run["later_rounds"]["retrained_minus_frozen"].clone()).collect::<Vec<_>>(),
            "later_rounds_retrained_minus_frozen_model": runs.iter().map(|run| run["later_rounds"]["retrained_minus_frozen_model"].clone()).collect::<Vec<_>>(),
            "later_rounds_upper_bound_minus_frozen": runs.iter().map(|run| run["later_rounds"]["upper_bound_minus_frozen"].clone()).collect::<Vec<_>>(),
            "retrained_over_v1_rounds_1_to_5_relative": (0..=at5).map(|r| acc(r, "retrained")).sum::<f64>() / (0..=at5).map(|r| acc(r, "v1")).sum::<f64>() - 1.0,
            "retrained_beats_random_every_round":
                (0..opt.rounds).all(|r| per_round[r]["retrained_minus_random_lowest_interval_low"].as_f64().unwrap_or(0.0) > 0.0),
            "retrained_over_v1_at_round": at5 + 1,
            "retrained_over_v1_relative": acc(at5, "retrained") / acc(at5, "v1") - 1.0,
            "exact_satisfied_total": exact, "greedy_satisfied_total": greedy,
        },
        "runs": runs,
    })
}

#[cfg(test)]
mod tests {
    use std::fmt::Write;

    use super::*;

    /// A MovieLens-shaped market where a title's hidden quality decides
    /// most of its ratings: what the market's signals (ratings, outcomes)
    /// reveal and the v1 weights ignore.
    fn synthetic(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
        let mut rng = StdRng::seed_from_u64(7);
        let (users, items) = (150u32, 120u32);
        let quality: Vec<f64> = (0..=items).map(|_| rng.random_range(-1.5..1.5)).collect();
        let mut item_file = String::new();
        for i in 1..=items {
            let flags: Vec<&str> = (0..19).map(|g| if g == (i % 4) as usize || g == 5 { "1" } else { "0" }).collect();
            writeln!(item_file, "{i}|Title {i} (1995)|01-Jan-1995||http://x|{}", flags.join("|")).unwrap();
        }
        let mut ratings = String::new();
        let mut time = 880_000_000i64;
        for _ in 0..12_000 {
            let (u, i) = (rng.random_range(1..=users), rng.random_range(1..=items));
            let p = 1.0 / (1.0 + (-(quality[i as usize] * 2.0 + rng.random_range(-1.0..1.0))).exp());
            let rating = if rng.random::<f64>() < p { rng.random_range(4..=5) } else { rng.random_range(1..=3) };
            time += rng.random_range(1..600);
            writeln!(ratings, "{u}\t{i}\t{rating}\t{time}").unwrap();
        }
        let (r, it) = (dir.join("u.data"), dir.join("u.item"));
        std::fs::write(&r, ratings).unwrap();
        std::fs::write(&it, item_file).unwrap();
        (r, it)
    }

    #[test]
    fn the_loop_learns_what_v1_ignores_and_exact_allocation_expects_more() {
        let dir = tempfile::tempdir().unwrap();
        let (ratings, items) = synthetic(dir.path());
        let opt = Options { rounds: 4, seed: 1, seeds: 1, k: 1, copies: 1 };
        let out = run(&ratings, &items, &opt).unwrap();
        let rounds = out["per_round"].as_array().unwrap();
        assert_eq!(rounds.len(), 4);
        let acc = |r: &Value, arm: &str| r["acceptance"][arm].as_f64().unwrap();
        // Before any feedback the learned arms are one model on one knowledge.
        let first = &rounds[0];
        for arm in ["frozen_model", "retrained", "upper_bound"] {
            assert_eq!(acc(first, arm), acc(first, "frozen"), "{arm}");
        }
        let mean = |arm: &str| rounds.iter().map(|r| acc(r, arm)).sum::<f64>() / rounds.len() as f64;
        assert!(mean("retrained") > mean("v1") + 0.05, "{out}");
        assert!(mean("retrained") > mean("random") + 0.05, "{out}");
        for run in out["runs"].as_array().unwrap() {
            for r in run["rounds"].as_array().unwrap() {
                let (exact, greedy) = (&r["allocation"]["exact"], &r["allocation"]["greedy"]);
                // The optimum's expected satisfied demands are never below greedy's.
                assert!(exact["expected"].as_f64().unwrap() >= greedy["expected"].as_f64().unwrap() - 1e-9);
                assert!(exact["satisfied"].as_u64().unwrap() <= exact["allocated"].as_u64().unwrap());
            }
        }
        let base = rounds[0]["base_rate"].as_f64().unwrap();
        assert!(base > 0.2 && base < 0.8, "{base}");
        // One seed: the mean across seeds is that seed's own.
        let across = &out["goals"]["later_rounds_retrained_minus_frozen_across_seeds"];
        assert_eq!(across["mean"], out["runs"][0]["later_rounds"]["retrained_minus_frozen"]["mean"], "{across}");
    }

    #[test]
    fn the_gain_across_seeds_is_the_mean_of_the_seeds_means_and_carries_their_spread() {
        let replay = |gains: &[(u32, f64)]| Replay { report: Value::Null, later_gain: gains.iter().copied().collect() };
        // Seed means 0.25 and 0.0: 0.125, not the mean of all people (0.1667).
        let across = gain_across_seeds(&[replay(&[(1, 0.2), (2, 0.3)]), replay(&[(1, 0.0)])], 1);
        assert!((across.mean - 0.125).abs() < 1e-12, "{across:?}");
        assert!(across.low >= -1e-12 && across.high <= 0.3 + 1e-12, "{across:?}");
        // Seeds that disagree widen it beyond what their people alone give.
        let seeds: Vec<Replay> = (0..5)
            .map(|s| replay(&(0..200).map(|u| (u, f64::from(s) * 0.02 + f64::from(u % 2) * 0.01)).collect::<Vec<_>>()))
            .collect();
        let across = gain_across_seeds(&seeds, 2);
        let one = bootstrap(&seeds[2].later_gain.values().copied().collect::<Vec<_>>(), 2);
        assert!(across.high - across.low > 5.0 * (one.high - one.low), "{across:?} vs {one:?}");
    }

    #[test]
    fn bad_files_and_options_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (ratings, items) = synthetic(dir.path());
        let zero = Options { rounds: 0, seed: 1, seeds: 1, k: 1, copies: 1 };
        assert!(run(&ratings, &items, &zero).unwrap_err().to_string().contains("at least 1"));
        let endless = Options { rounds: 2, seeds: MAX_SEEDS + 1, ..zero };
        let e = run(&ratings, &items, &endless).unwrap_err().to_string();
        assert!(e.contains("--seeds 101 is more than 100"), "{e}");
        // The last seed is followed by the first.
        let last = Options { rounds: 2, seed: u64::MAX, seeds: 2, ..zero };
        assert_eq!(run(&ratings, &items, &last).unwrap()["runs"].as_array().map(Vec::len), Some(2));
        let broken = dir.path().join("bad.data");
        std::fs::write(&broken, "1\t2\tfive\t3\n").unwrap();
        let opt = Options { rounds: 2, ..zero };
        let e = run(&broken, &items, &opt).unwrap_err().to_string();
        assert!(e.contains("bad.data:1:"), "{e}");
    }
}
