//! The search behind model selection: each family's settings tried on the
//! validation split within the budget (a coordinate search per family, ALS
//! with early stopping, the EASE + ALS blend), and the final round that scores
//! the leading families on further splits. `selection.rs` drives it and
//! reports what it found.

use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use super::als::{self, AlsParams};
use super::data::Interactions;
use super::evaluation::{EvalReport, evaluate, split_validation};
use super::rp3::Rp3Params;
use super::selection::Trial;
use super::{EaseLayout, Params, Recommender, RecommenderError, ease_layout};

/// Validation scores at most this many users (a seeded sample): enough to
/// tell families apart, and it bounds the cost of scoring every item for
/// every validation user on large data.
pub(super) const VALIDATION_USERS: usize = 3_000;

const VALIDATION_SHARE: f64 = 0.1;

/// ALS settings run up to this many iterations (fewer when validation stops gaining).
const MAX_ALS_ITERATIONS: usize = 16;

/// Validation scores on one split are noisy when the families are close, so
/// the best setting of each of the leading families is also scored on this
/// many further splits (as the budget allows) and the choice made on the mean.
const FINALISTS: usize = 3;
const FINAL_ROUND_SHARE: f64 = 0.2;
const EXTRA_SPLITS: u64 = 2;

/// A validation split of `train`, scored on at most `VALIDATION_USERS` users.
pub(super) fn carve(train: &Interactions, seed: u64) -> (Interactions, Vec<Vec<u32>>) {
    let (fit_part, mut validation) = split_validation(train, VALIDATION_SHARE, seed);
    let with_items: Vec<usize> = (0..validation.len()).filter(|&u| !validation[u].is_empty()).collect();
    if with_items.len() > VALIDATION_USERS {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
        let mut keep: Vec<usize> = with_items.choose_multiple(&mut rng, VALIDATION_USERS).copied().collect();
        keep.sort_unstable();
        let mut kept = vec![Vec::new(); validation.len()];
        for u in keep {
            kept[u] = std::mem::take(&mut validation[u]);
        }
        validation = kept;
    }
    (fit_part, validation)
}

pub(super) struct Search<'a> {
    pub(super) fit: &'a Interactions,
    pub(super) validation: &'a [Vec<u32>],
    pub(super) full: &'a Interactions,
    /// Further splits for the final round and the hybrid's weight, made on demand.
    pub(super) extra: Vec<(Interactions, Vec<Vec<u32>>)>,
    pub(super) k: usize,
    pub(super) seed: u64,
    pub(super) started: Instant,
    pub(super) budget: f64,
    pub(super) trials: Vec<Trial>,
    pub(super) skipped: Vec<(String, String)>,
    /// Each family's best trial so far.
    pub(super) best_of: std::collections::BTreeMap<&'static str, Trial>,
    /// Comparing every family (so ALS leaves room for the blend after it).
    pub(super) auto: bool,
}

impl Search<'_> {
    fn left(&self) -> f64 {
        self.budget - self.started.elapsed().as_secs_f64()
    }

    fn skip(&mut self, family: &str, why: String) {
        self.skipped.push((family.to_string(), why));
    }

    /// Fits and scores one setting; `None` if it does not fit the data (EASE
    /// on a shape it cannot afford).
    fn try_params(&mut self, params: Params) -> Result<Option<f64>, RecommenderError> {
        if let Some(t) = self.trials.iter().find(|t| t.params == params) {
            return Ok(Some(t.ndcg));
        }
        let t0 = Instant::now();
        let model = match Recommender::fit(self.fit, &params) {
            Ok(m) => m,
            Err(RecommenderError::TooLarge(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let report = evaluate(&model, self.fit, self.validation, self.k);
        let ndcg = report.ndcg;
        self.record(params, report, t0.elapsed().as_secs_f64());
        Ok(Some(ndcg))
    }

    fn record(&mut self, params: Params, report: EvalReport, seconds: f64) {
        let trial = Trial { params, ndcg: report.ndcg, extra_splits: Vec::new(), seconds, report: Some(report) };
        let ndcg = trial.ndcg;
        let family = trial.params.name();
        if self.best_of.get(family).is_none_or(|b| ndcg > b.ndcg) {
            self.best_of.insert(family, trial.clone());
        }
        self.trials.push(trial);
    }

    /// The last trial's seconds of this family (the cost of the next one).
    fn last_cost(&self, family: &str) -> f64 {
        self.trials.iter().rev().find(|t| t.params.name() == family).map_or(0.0, |t| t.seconds)
    }

    /// Whether one more setting of `family` fits in the budget (`forced`: the
    /// caller asked for this family, so its first setting is always tried).
    fn affordable(&self, family: &str, first_estimate: f64, forced: bool) -> bool {
        let tried = self.trials.iter().any(|t| t.params.name() == family);
        if forced && !tried {
            return true;
        }
        let cost = if tried { self.last_cost(family) } else { first_estimate };
        // A fifth of the budget is kept for the final round.
        cost <= self.left() - FINAL_ROUND_SHARE * self.budget
    }

    pub(super) fn family(&mut self, family: &str, forced: bool) -> Result<(), RecommenderError> {
        if family == "ease" && ease_layout(self.fit.n_users(), self.fit.n_items()).is_none() {
            self.skip(family, "too large for either form of EASE (items² and users² both over the limit)".into());
            return Ok(());
        }
        if family == "hybrid" {
            // Its cost is its parts': it checks the budget itself.
            return self.hybrid(forced);
        }
        let estimate = first_cost_estimate(family, self.fit);
        if !self.affordable(family, estimate, forced) {
            self.skip(
                family,
                format!(
                    "estimated {estimate:.1} s, {:.1} s of the budget left before the final round",
                    (self.left() - FINAL_ROUND_SHARE * self.budget).max(0.0)
                ),
            );
            return Ok(());
        }
        match family {
            "popularity" => {
                self.try_params(Params::Popularity)?;
            }
            "itemknn" => {
                for neighbours in [20, 50, 100, 200, 400] {
                    if !self.affordable(family, estimate, forced) {
                        break;
                    }
                    self.try_params(Params::ItemKnn { neighbours })?;
                }
            }
            "rp3beta" => self.rp3(forced, estimate)?,
            "ease" => self.ease(forced, estimate)?,
            "als" => self.als(forced, estimate)?,
            _ => unreachable!("families are checked by select"),
        }
        Ok(())
    }

    /// Coordinate search: β, then α, then the neighbourhood size.
    fn rp3(&mut self, forced: bool, estimate: f64) -> Result<(), RecommenderError> {
        let mut best = Rp3Params { alpha: 0.8, beta: 0.3, neighbours: 100 };
        let axes: [(&str, &[f64]); 3] = [
            ("beta", &[0.0, 0.15, 0.3, 0.45, 0.6]),
            ("alpha", &[0.5, 0.8, 1.0, 1.2]),
            ("k", &[50.0, 100.0, 200.0, 400.0]),
        ];
        let mut best_ndcg = f64::NEG_INFINITY;
        for (axis, values) in axes {
            for &v in values {
                if !self.affordable("rp3beta", estimate, forced) {
                    return Ok(());
                }
                let mut p = best;
                match axis {
                    "beta" => p.beta = v,
                    "alpha" => p.alpha = v,
                    _ => p.neighbours = v as usize,
                }
                if let Some(ndcg) = self.try_params(Params::Rp3(p))?
                    && ndcg > best_ndcg
                {
                    (best, best_ndcg) = (p, ndcg);
                }
            }
        }
        Ok(())
    }

    /// For each dropout emphasis, λ on a log grid walked from the best λ so
    /// far while validation improves.
    fn ease(&mut self, forced: bool, estimate: f64) -> Result<(), RecommenderError> {
        const LAMBDAS: [f64; 10] = [12.5, 25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0, 6400.0];
        let eval = |s: &mut Self, lambda: f64, dropout: f64| -> Result<Option<f64>, RecommenderError> {
            if !s.affordable("ease", estimate, forced) {
                return Ok(None);
            }
            s.try_params(Params::Ease { lambda, dropout })
        };
        let mut at = 5usize;
        let mut best = f64::NEG_INFINITY;
        for dropout in [0.0, 0.15, 0.3, 0.45] {
            let Some(start) = eval(self, LAMBDAS[at], dropout)? else { return Ok(()) };
            let mut here = (at, start);
            for step in [1isize, -1] {
                loop {
                    let next = here.0 as isize + step;
                    if next < 0 || next as usize >= LAMBDAS.len() {
                        break;
                    }
                    match eval(self, LAMBDAS[next as usize], dropout)? {
                        Some(v) if v > here.1 => here = (next as usize, v),
                        _ => break,
                    }
                }
            }
            if here.1 > best {
                (at, best) = here;
            }
        }
        Ok(())
    }

    /// Regularisation, confidence α and factors by coordinate search, each
    /// setting run once with the number of iterations chosen on validation
    /// (scored every other iteration, stopped after two checks without gain).
    fn als(&mut self, forced: bool, estimate: f64) -> Result<(), RecommenderError> {
        let mut best =
            AlsParams { factors: 32, alpha: 3.0, reg: 30.0, iterations: MAX_ALS_ITERATIONS, seed: self.seed };
        let mut best_ndcg = f64::NEG_INFINITY;
        let axes: [(&str, &[f64]); 3] =
            [("reg", &[30.0, 10.0, 100.0]), ("alpha", &[1.0, 3.0, 10.0]), ("factors", &[64.0, 128.0])];
        for (axis, values) in axes {
            for &v in values {
                // The blend of EASE and ALS refits both on three splits: once
                // ALS has a setting, it stops in time to leave room for that.
                let tried = best_ndcg.is_finite();
                let blend = if self.auto && tried && self.best_of.contains_key("ease") {
                    3.0 * (self.last_cost("ease") + self.last_cost("als"))
                } else {
                    0.0
                };
                if !self.affordable("als", estimate, forced)
                    || (tried && self.last_cost("als") + blend > self.left() - FINAL_ROUND_SHARE * self.budget)
                {
                    return Ok(());
                }
                let mut p = AlsParams { iterations: MAX_ALS_ITERATIONS, ..best };
                match axis {
                    "alpha" => p.alpha = v,
                    "reg" => p.reg = v,
                    _ => p.factors = v as usize,
                }
                let key = |q: &AlsParams| AlsParams { iterations: MAX_ALS_ITERATIONS, ..*q };
                if self.trials.iter().any(|t| matches!(&t.params, Params::Als(q) if key(q) == p)) {
                    continue;
                }
                let (params, ndcg) = self.als_early_stopped(p)?;
                if ndcg > best_ndcg {
                    (best, best_ndcg) = (params, ndcg);
                }
            }
        }
        Ok(())
    }

    fn als_early_stopped(&mut self, p: AlsParams) -> Result<(AlsParams, f64), RecommenderError> {
        let t0 = Instant::now();
        let (fit, validation, k) = (self.fit, self.validation, self.k);
        let mut best: (usize, f64) = (0, f64::NEG_INFINITY);
        let mut since_gain = 0;
        let score = |users: Vec<f32>, items: Vec<f32>, iterations: usize| {
            let model = Recommender::from_als_factors(fit, AlsParams { iterations, ..p }, users, items);
            evaluate(&model, fit, validation, k)
        };
        let mut report = None;
        let (users, items) = als::fit_with(fit, &p, |iteration, users, items| {
            if iteration < 4 || iteration % 2 == 1 {
                return true;
            }
            let r = score(users.to_vec(), items.to_vec(), iteration);
            if r.ndcg > best.1 {
                best = (iteration, r.ndcg);
                report = Some(r);
                since_gain = 0;
            } else {
                since_gain += 1;
            }
            since_gain < 2
        })?;
        let last = score(users, items, p.iterations);
        if last.ndcg > best.1 || best.0 == 0 {
            best = (p.iterations, last.ndcg);
            report = Some(last);
        }
        let params = AlsParams { iterations: best.0, ..p };
        let report = report.ok_or(RecommenderError::Empty)?;
        self.record(Params::Als(params), report, t0.elapsed().as_secs_f64());
        Ok((params, best.1))
    }

    /// The `i`-th extra validation split, made on first use.
    fn extra_split(&mut self, i: usize) -> &(Interactions, Vec<Vec<u32>>) {
        while self.extra.len() <= i {
            let seed = self.seed.wrapping_add(1 + self.extra.len() as u64);
            self.extra.push(carve(self.full, seed));
        }
        &self.extra[i]
    }

    /// NDCG@k of `params` on the `i`-th extra split.
    fn score_on_extra(&mut self, params: &Params, i: usize) -> Result<f64, RecommenderError> {
        let k = self.k;
        let (fit, held) = self.extra_split(i);
        let model = Recommender::fit(fit, params)?;
        Ok(evaluate(&model, fit, held, k).ndcg)
    }

    /// The blend of the best EASE and the best ALS. Its validation curve over
    /// the weight is flat and noisy, so when the budget allows the weight is
    /// chosen on the mean over the main and the extra validation splits.
    fn hybrid(&mut self, forced: bool) -> Result<(), RecommenderError> {
        let (Some(Trial { params: ease @ Params::Ease { .. }, .. }), Some(Trial { params: als @ Params::Als(_), .. })) =
            (self.best_of.get("ease").cloned(), self.best_of.get("als").cloned())
        else {
            self.skip("hybrid", "needs both an EASE and an ALS trial".into());
            return Ok(());
        };
        let one_split = self.last_cost("ease") + self.last_cost("als");
        if !forced && one_split > self.left() - FINAL_ROUND_SHARE * self.budget {
            self.skip(
                "hybrid",
                format!(
                    "estimated {one_split:.1} s, {:.1} s of the budget left before the final round",
                    (self.left() - FINAL_ROUND_SHARE * self.budget).max(0.0)
                ),
            );
            return Ok(());
        }
        let t0 = Instant::now();
        let mut parts = vec![(Recommender::fit(self.fit, &ease)?, Recommender::fit(self.fit, &als)?)];
        for i in 0..EXTRA_SPLITS as usize {
            if 1.2 * one_split > self.left() - FINAL_ROUND_SHARE * self.budget {
                break;
            }
            let k = self.k;
            let (fit, held) = self.extra_split(i);
            let e = Recommender::fit(fit, &ease)?;
            let m = Recommender::fit(fit, &als)?;
            // The two parts' own scores on this split come for free: the
            // final round then needs no refit of either.
            let alone =
                [(ease.clone(), evaluate(&e, fit, held, k).ndcg), (als.clone(), evaluate(&m, fit, held, k).ndcg)];
            for (params, ndcg) in alone {
                if let Some(t) = self.trials.iter_mut().find(|t| t.params == params)
                    && t.extra_splits.len() == i
                {
                    t.extra_splits.push(ndcg);
                }
            }
            parts.push((e, m));
        }
        let base = t0.elapsed().as_secs_f64();
        for w in 1..=9 {
            let t1 = Instant::now();
            let mut scores = Vec::new();
            let mut main = None;
            for (i, (e, m)) in parts.iter().enumerate() {
                let Some(blend) = Recommender::hybrid_of(e, m, f64::from(w) / 10.0) else { continue };
                let (fit, held) = if i == 0 {
                    (self.fit, self.validation)
                } else {
                    (&self.extra[i - 1].0, self.extra[i - 1].1.as_slice())
                };
                let r = evaluate(&blend, fit, held, self.k);
                scores.push(r.ndcg);
                if i == 0 {
                    main = Some((blend.params().clone(), r));
                }
            }
            if let Some((params, report)) = main {
                self.record(params, report, base + t1.elapsed().as_secs_f64());
                if let Some(t) = self.trials.last_mut() {
                    t.extra_splits = scores[1..].to_vec();
                }
                self.refresh_best("hybrid");
            }
        }
        Ok(())
    }

    /// Re-picks a family's best trial (after extra splits changed means).
    fn refresh_best(&mut self, family: &'static str) {
        let extra =
            self.trials.iter().filter(|t| t.params.name() == family).map(|t| t.extra_splits.len()).min().unwrap_or(0);
        if let Some(best) = self
            .trials
            .iter()
            .filter(|t| t.params.name() == family)
            .max_by(|a, b| a.mean(extra).total_cmp(&b.mean(extra)))
            .cloned()
        {
            self.best_of.insert(family, best);
        }
    }

    /// Scores the leading families' best settings on the extra splits as the
    /// budget allows, and returns them best first by the mean over the splits
    /// every finalist was scored on (with that number of splits).
    pub(super) fn final_round(&mut self) -> Result<(Vec<Trial>, usize), RecommenderError> {
        let mut finalists: Vec<Trial> = self
            .best_of
            .values()
            .map(|b| self.trials.iter().find(|t| t.params == b.params).cloned().unwrap_or_else(|| b.clone()))
            .collect();
        finalists.sort_by(|a, b| b.ndcg.total_cmp(&a.ndcg));
        finalists.truncate(FINALISTS);
        if finalists.is_empty() {
            return Err(RecommenderError::BadModel("no setting could be tried".into()));
        }
        if finalists.len() > 1 {
            for t in finalists.iter_mut() {
                while (t.extra_splits.len() as u64) < EXTRA_SPLITS {
                    let cost = if let Params::Hybrid { .. } = t.params {
                        self.last_cost("ease") + self.last_cost("als")
                    } else {
                        t.seconds
                    };
                    if 1.2 * cost > self.left() {
                        break;
                    }
                    let i = t.extra_splits.len();
                    let ndcg = self.score_on_extra(&t.params, i)?;
                    t.extra_splits.push(ndcg);
                }
                if let Some(recorded) = self.trials.iter_mut().find(|r| r.params == t.params) {
                    recorded.extra_splits = t.extra_splits.clone();
                }
            }
        }
        let extra = finalists.iter().map(|t| t.extra_splits.len()).min().unwrap_or(0);
        finalists.sort_by(|a, b| b.mean(extra).total_cmp(&a.mean(extra)));
        Ok((finalists, 1 + extra))
    }
}

/// A rough cost, in seconds on two cores, of the first setting of a family
/// (fit plus validation scoring), from the data's shape; later settings use
/// the measured cost of the previous one.
fn first_cost_estimate(family: &str, x: &Interactions) -> f64 {
    let (u, n, nnz) = (x.n_users() as f64, x.n_items() as f64, x.len() as f64);
    let user_pairs: f64 = x.by_user.iter().map(|h| (h.len() as f64).powi(2)).sum();
    let scoring = u.min(VALIDATION_USERS as f64) * n * 2e-9;
    match family {
        "popularity" => scoring,
        "itemknn" | "rp3beta" => user_pairs * 2e-9 + scoring,
        "ease" => match ease_layout(x.n_users(), x.n_items()) {
            Some(EaseLayout::Dual) => (u.powi(3) / 3.0 + u * nnz + u * n) * 2e-9 + scoring * 10.0,
            _ => n.powi(3) * 0.03e-9 + scoring * 10.0,
        },
        // Conjugate-gradient steps over 16 iterations at 32 factors, plus
        // scoring every few iterations, at about 4 GFLOP/s.
        "als" => {
            let k = 32.0;
            let fit = 16.0 * 2.0 * 6.0 * ((u + n) * k * k + 2.0 * nnz * k);
            let checks = 6.0 * 2.0 * u.min(VALIDATION_USERS as f64) * n * k;
            (fit + checks) / 4e9
        }
        _ => 0.0,
    }
}
