//! Training: featurise once, then SGD epochs over a seeded shuffle.

use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::features::extract_all;
use super::{Classifier, ClassifierError, FeatureConfig, Features, LabelledText};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub features: FeatureConfig,
    pub epochs: u32,
    /// Initial learning rate; decays linearly to zero over all epochs.
    pub lr: f32,
    pub seed: u64,
}

/// Defaults chosen on THUCNews' dev split (never its test split): see the README.
impl Default for TrainConfig {
    fn default() -> Self {
        Self { features: FeatureConfig::default(), epochs: 20, lr: 2.0, seed: 42 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainReport {
    pub examples: usize,
    pub labels: usize,
    /// The epoch whose weights were kept (the best on dev, else the last).
    pub best_epoch: u32,
    pub dev_accuracy: Option<f64>,
    pub seconds: f64,
}

/// Trains on `train`; with `dev`, keeps the epoch with the best dev accuracy.
/// `progress` is called with (examples done, examples in all epochs).
pub fn train(
    train: &[LabelledText],
    dev: Option<&[LabelledText]>,
    config: &TrainConfig,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(Classifier, TrainReport), ClassifierError> {
    let started = Instant::now();
    if train.is_empty() {
        return Err(ClassifierError::Empty);
    }
    let mut labels: Vec<String> = train.iter().map(|e| e.label.clone()).collect();
    labels.sort();
    labels.dedup();
    if labels.len() < 2 {
        return Err(ClassifierError::OneLabel(labels[0].clone()));
    }
    let k = labels.len();
    let fc: FeatureConfig = config.features;
    let texts: Vec<&str> = train.iter().map(|e| e.text.as_str()).collect();
    let xs: Vec<Features> = extract_all(&fc, &texts);
    let ys: Vec<usize> = train.iter().map(|e| labels.binary_search(&e.label).unwrap_or(0)).collect();
    let dev_set: Option<(Vec<Features>, Vec<Option<usize>>)> = dev.map(|d| {
        (
            d.iter().map(|e| fc.extract(&e.text)).collect(),
            d.iter().map(|e| labels.binary_search(&e.label).ok()).collect(),
        )
    });

    let mut model =
        Classifier { labels, config: config.clone(), weights: vec![0.0; fc.buckets() * k], bias: vec![0.0; k] };
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut order: Vec<usize> = (0..xs.len()).collect();
    let total = u64::from(config.epochs.max(1)) * xs.len() as u64;
    let mut step = 0u64;
    let mut scores = vec![0.0f32; k];
    let mut best: Option<(f64, u32, Vec<f32>, Vec<f32>)> = None;
    for epoch in 1..=config.epochs.max(1) {
        order.shuffle(&mut rng);
        for &i in &order {
            let lr = config.lr * (1.0 - step as f32 / total as f32);
            step += 1;
            sgd_step(&mut model, &xs[i], ys[i], lr, &mut scores);
        }
        progress(step, total);
        if let Some((dx, dy)) = &dev_set {
            let correct = dx
                .iter()
                .zip(dy)
                .filter(|(x, y)| {
                    model.scores_into(x, &mut scores);
                    Some(Classifier::argmax(&scores)) == **y
                })
                .count();
            let acc = correct as f64 / dx.len().max(1) as f64;
            if best.as_ref().is_none_or(|b| acc > b.0) {
                best = Some((acc, epoch, model.weights.clone(), model.bias.clone()));
            }
        }
    }
    let (dev_accuracy, best_epoch) = match best {
        Some((acc, epoch, w, b)) => {
            model.weights = w;
            model.bias = b;
            (Some(acc), epoch)
        }
        None => (None, config.epochs.max(1)),
    };
    let report = TrainReport {
        examples: train.len(),
        labels: k,
        best_epoch,
        dev_accuracy,
        seconds: started.elapsed().as_secs_f64(),
    };
    Ok((model, report))
}

/// One step of softmax cross-entropy SGD on one example.
fn sgd_step(m: &mut Classifier, x: &Features, y: usize, lr: f32, scores: &mut [f32]) {
    let k = m.labels.len();
    m.scores_into(x, scores);
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for s in scores.iter_mut() {
        *s = (*s - max).exp();
        sum += *s;
    }
    for (c, s) in scores.iter_mut().enumerate() {
        // Gradient of the loss w.r.t. the score of class c, times the rate.
        *s = lr * (*s / sum - if c == y { 1.0 } else { 0.0 });
    }
    for (b, g) in m.bias.iter_mut().zip(scores.iter()) {
        *b -= g;
    }
    for &(f, v) in x {
        let row = &mut m.weights[f as usize * k..(f as usize + 1) * k];
        for (w, g) in row.iter_mut().zip(scores.iter()) {
            *w -= g * v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(text: &str, label: &str) -> LabelledText {
        LabelledText { text: text.into(), label: label.into() }
    }

    fn toy() -> Vec<LabelledText> {
        let mut v = Vec::new();
        for (i, t) in ["二手自行车", "山地车出售", "折叠单车", "公路自行车", "儿童自行车"].iter().enumerate()
        {
            v.push(ex(&format!("{t} {i}号"), "bicycles"));
        }
        for (i, t) in ["数学家教", "英语辅导", "钢琴课老师", "物理补习", "编程辅导"].iter().enumerate()
        {
            v.push(ex(&format!("{t} {i}号"), "tutoring"));
        }
        v
    }

    #[test]
    fn refuses_empty_and_single_label_data() {
        assert!(matches!(train(&[], None, &TrainConfig::default(), &mut |_, _| {}), Err(ClassifierError::Empty)));
        let one = vec![ex("a", "x"), ex("b", "x")];
        assert!(matches!(
            train(&one, None, &TrainConfig::default(), &mut |_, _| {}),
            Err(ClassifierError::OneLabel(_))
        ));
    }

    #[test]
    fn deterministic_for_a_seed_and_round_trips_through_bytes() {
        let cfg =
            TrainConfig { features: FeatureConfig { buckets_log2: 14, ..Default::default() }, ..Default::default() };
        let (a, _) = train(&toy(), None, &cfg, &mut |_, _| {}).unwrap();
        let (b, _) = train(&toy(), None, &cfg, &mut |_, _| {}).unwrap();
        assert_eq!(a, b);
        let back = Classifier::from_bytes(&a.to_bytes()).unwrap();
        assert_eq!(back, a);
        for t in ["想买一辆自行车", "找一个数学老师", "完全无关的文字"] {
            assert_eq!(back.predict(t), a.predict(t));
        }
        assert!(Classifier::from_bytes(b"nonsense").is_err());
        let mut truncated = a.to_bytes();
        truncated.truncate(truncated.len() - 3);
        assert!(Classifier::from_bytes(&truncated).is_err());
    }
}
