//! Learning a small committed bilingual fixture: held-out accuracy far above
//! chance, and low confidence on text unlike anything it saw.

use std::path::PathBuf;

use wantloop_ml::classifier::{TrainConfig, read_file, train};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

#[test]
fn learns_the_fixture_and_generalises_to_unseen_phrasing() {
    let train_set = read_file(&fixture("demands_train.tsv")).unwrap();
    let test_set = read_file(&fixture("demands_test.tsv")).unwrap();
    let (model, report) = train(&train_set, None, &TrainConfig::default(), &mut |_, _| {}).unwrap();
    assert_eq!((report.examples, report.labels), (180, 6));
    let (metrics, _) = model.evaluate(&test_set);
    // Chance is 1/6; the test phrasing never occurs in training.
    assert!(metrics.accuracy > 0.85, "held-out accuracy {}", metrics.accuracy);
    assert!(metrics.macro_f1 > 0.85, "macro-F1 {}", metrics.macro_f1);
    let sure = model.predict("想买一辆二手山地自行车");
    assert_eq!(sure.label, "bicycles");
    let unsure = model.predict("量子力学的哲学意义");
    assert!(unsure.confidence < sure.confidence, "{unsure:?} vs {sure:?}");
}
