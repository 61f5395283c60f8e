//! The paraphrase scorer on pairs made here: trained on the phrasings of some
//! intents, it tells held-out phrasings of the same intent from those of
//! another; its bytes round-trip and damaged bytes are refused.

use wantloop_ml::paraphrase::{LabelledPair, LexicalIndex, ParaphraseScorer, ScorerConfig, train};

/// Intents, each with phrasings; the last phrasing of each is held out.
const INTENTS: &[&[&str]] = &[
    &["怎么发布需求", "如何发布一个需求", "我想发一个需求怎么弄", "发布需求的步骤是什么", "在哪里发需求"],
    &["匹配多久会失效", "提议的匹配多长时间过期", "匹配的有效期是多久", "匹配会一直有效吗", "多久以后匹配就没了"],
    &["怎么取消需求", "如何撤销我的需求", "需求不想要了怎么取消", "可以取消已经发布的需求吗", "撤回需求怎么操作"],
    &["拒绝匹配会怎样", "如果我拒绝这个匹配会发生什么", "拒绝了匹配有什么后果", "不接受匹配会怎么样", "拒掉匹配之后呢"],
    &["怎么给报价评分", "如何评价提供者", "在哪里打分", "评分怎么操作", "可以给卖家打几分"],
    &["价格单位是什么", "金额是元还是分", "预算填的是什么单位", "价格按什么单位算", "钱的单位是分吗"],
];

fn pairs(held_out: bool) -> Vec<LabelledPair> {
    let pick = |p: &[&'static str]| -> Vec<&'static str> {
        if held_out { vec![p[p.len() - 1]] } else { p[..p.len() - 1].to_vec() }
    };
    let mut out = Vec::new();
    for (i, intent) in INTENTS.iter().enumerate() {
        let ours = pick(intent);
        let train_side: Vec<&str> = intent[..intent.len() - 1].to_vec();
        let partners = if held_out { train_side } else { ours.clone() };
        for (k, a) in ours.iter().enumerate() {
            for b in partners.iter().skip(if held_out { 0 } else { k + 1 }) {
                out.push(LabelledPair { a: a.to_string(), b: b.to_string(), label: true });
            }
            for (j, other) in INTENTS.iter().enumerate().filter(|(j, _)| *j != i) {
                let b = other[(k + j) % (other.len() - 1)];
                out.push(LabelledPair { a: a.to_string(), b: b.to_string(), label: false });
            }
        }
    }
    out
}

#[test]
fn tells_held_out_paraphrases_from_other_questions() {
    let (scorer, report) = train(&pairs(false), &ScorerConfig::default()).unwrap();
    assert!(report.iterations > 0 && report.positives > 0);
    let test = pairs(true);
    let correct = test.iter().filter(|p| scorer.score(&p.a, &p.b).same == p.label).count();
    let accuracy = correct as f64 / test.len() as f64;
    assert!(accuracy >= 0.8, "accuracy {accuracy} on {} held-out pairs", test.len());
    // Symmetric, and a question is its own paraphrase.
    let (a, b) = ("怎么取消需求", "需求不想要了怎么取消");
    assert!((scorer.score(a, b).probability - scorer.score(b, a).probability).abs() < 1e-9);
    assert!(scorer.score(a, a).probability > scorer.score(a, "价格单位是什么").probability);

    let bytes = scorer.to_bytes();
    let back = ParaphraseScorer::from_bytes(&bytes).unwrap();
    for p in &test {
        assert!((back.score(&p.a, &p.b).probability - scorer.score(&p.a, &p.b).probability).abs() < 1e-6);
    }
    assert!(ParaphraseScorer::from_bytes(b"WLCLS1\n{}").is_err());
    assert!(ParaphraseScorer::from_bytes(&bytes[..bytes.len() - 3]).is_err());
    let mut bad_bucket = bytes.clone();
    bad_bucket.extend(u32::MAX.to_le_bytes());
    bad_bucket.extend(1.0f32.to_le_bytes());
    assert!(ParaphraseScorer::from_bytes(&bad_bucket).is_err());
}

#[test]
fn training_needs_both_labels() {
    let one = vec![LabelledPair { a: "a".into(), b: "b".into(), label: true }];
    assert!(train(&one, &ScorerConfig::default()).is_err());
    assert!(train(&[], &ScorerConfig::default()).is_err());
}

#[test]
fn lexical_candidates_come_best_first() {
    let texts: Vec<String> = INTENTS.iter().map(|i| i[0].to_string()).collect();
    let index = LexicalIndex::build(&texts);
    let hits = index.search(&wantloop_ml::paraphrase::Analysed::of("需求怎么取消呢"), 3, &|_| false);
    assert_eq!(hits[0].document, 2, "{hits:?}");
    assert!(hits.windows(2).all(|w| w[0].bm25 >= w[1].bm25));
}
