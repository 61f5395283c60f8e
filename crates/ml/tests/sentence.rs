//! The sentence model against a reference: token ids from Hugging Face's
//! `tokenizers` (the model's own `tokenizer.json`) and vectors from an
//! independent NumPy forward pass of the same weights, computed once and
//! written here. Needs the installed model: set `WANTLOOP_TEXT_MODEL` to
//! its folder (`wantloop models install text` puts it in
//! `DATA_DIR/models/all-minilm-l6-v2`); `.ci/run` does, and sets
//! `WANTLOOP_REQUIRE_TEXT_MODEL=1` so that there it never skips.

use wantloop_ml::sentence::{DIM, SentenceEncoder, cosine};

fn encoder() -> Option<SentenceEncoder> {
    let dir = wantloop_ml::sentence::testing::model_dir("the sentence model's tests are skipped")?;
    Some(SentenceEncoder::load(&dir).expect("the installed model loads"))
}

const SENTENCES: [&str; 4] = [
    "How do I see pictures of an offer?",
    "Can I upload images for my listing?",
    "What's the weather like in Hangzhou today?",
    "Café naïve résumé — UNAFFABLE!!",
];

#[test]
fn tokens_are_those_of_the_reference_tokenizer() {
    let Some(e) = encoder() else { return };
    assert_eq!(e.token_ids(SENTENCES[3]), [101, 7668, 15743, 13746, 1517, 14477, 20961, 3468, 999, 999, 102]);
}

#[test]
fn vectors_match_the_reference_forward_pass() {
    let Some(e) = encoder() else { return };
    let v: Vec<Vec<f32>> = SENTENCES.iter().map(|s| e.embed(s).unwrap()).collect();
    assert!(v.iter().all(|x| x.len() == DIM && (cosine(x, x) - 1.0).abs() < 1e-4));
    for (got, want) in v[0].iter().zip([-0.02859, 0.03923, -0.02738, 0.07412]) {
        assert!((got - want).abs() < 2e-4, "{got} against {want}");
    }
    let pairs = [(0, 1, 0.45613), (0, 2, 0.0068), (0, 3, 0.14551), (1, 2, 0.00272), (1, 3, 0.09234), (2, 3, 0.00801)];
    for (i, j, want) in pairs {
        let got = cosine(&v[i], &v[j]);
        assert!((got - want).abs() < 1e-3, "sentences {i} and {j}: {got} against {want}");
    }
}

#[test]
fn text_past_the_model_limit_is_cut_not_refused() {
    let Some(e) = encoder() else { return };
    let long = "how do I post a demand ".repeat(200);
    assert_eq!(e.token_ids(&long).len(), 256);
    assert!(e.embed(&long).is_ok());
}
