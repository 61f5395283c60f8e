//! `wantloop eval ask`: the assistant end to end, through the engine's own
//! `ask` on a throwaway store holding the given FAQ. Each question of a JSONL
//! file (`{"question", "lang", "expect"}`, `expect` an entry key or
//! `refuse`, or `graph` for the market's knowledge graph) is correct when
//! answered from the expected source, or refused
//! when it should be. Run twice: with the lexical scorer (no model), then
//! with a paraphrase scorer trained on the FAQ (and `--pairs`); and, when
//! the sentence model is installed under `--data-dir`, once more with it
//! (English questions matched by meaning). Thresholds are chosen on
//! `--validation` questions, never on the measured ones, one per scorer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use wantloop_engine::ask::{AskOptions, LEXICAL_THRESHOLD, MEANING_SCORER, MEANING_THRESHOLD};
use wantloop_engine::{Engine, EngineConfig, IndexLocation};
use wantloop_store::FaqEntry;

#[derive(clap::Args)]
pub struct AskArgs {
    /// The FAQ (JSON lines or CSV, as `import faq` reads).
    #[arg(long)]
    faq: PathBuf,
    /// Questions measured: `{"question", "lang", "expect"}` a line.
    #[arg(long)]
    questions: PathBuf,
    /// Questions the thresholds are chosen on (same format, other questions).
    #[arg(long)]
    validation: Option<PathBuf>,
    /// More labelled pairs for the paraphrase scorer (`sentence1,sentence2,label`: CSV, TSV or JSON Lines).
    #[arg(long)]
    pairs: Option<PathBuf>,
    /// Offers of the generated market (the demo's) the graph's questions are asked about.
    #[arg(long, default_value_t = 400)]
    market_offers: usize,
    /// A data folder whose sentence model (`wantloop models install text`) is also measured.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

#[derive(Deserialize)]
struct Question {
    question: String,
    lang: Option<String>,
    expect: String,
}

/// One asked question: the best entry's key and its confidence.
struct Asked {
    question: String,
    expect: String,
    lang: String,
    /// What scored it (`Answer::scorer`): its threshold is that scorer's.
    scorer: String,
    best: Option<String>,
    confidence: f64,
}

/// The confidence that answers, per scorer.
type Thresholds = BTreeMap<String, f64>;

/// A graph answer always answers; every other scorer has its threshold.
fn threshold_of(thresholds: &Thresholds, scorer: &str) -> f64 {
    match thresholds.get(scorer) {
        Some(t) => *t,
        None if scorer == "graph" => 0.0,
        None => panic!("no threshold for the scorer {scorer:?}"),
    }
}

#[derive(Debug, Serialize)]
struct Figures {
    threshold: f64,
    /// English questions matched by meaning answer from this confidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    meaning_threshold: Option<f64>,
    accuracy: f64,
    /// Answerable questions answered from the right entry.
    answered_right: f64,
    /// Questions to refuse that were refused.
    refused_right: f64,
    /// Answerable questions whose best entry is right, whatever the threshold.
    top1: f64,
    per_language: BTreeMap<String, f64>,
}

#[derive(Debug, Serialize)]
struct ScorerReport {
    scorer: String,
    /// At the threshold the product uses.
    default: Figures,
    /// At the threshold most accurate on --validation.
    #[serde(skip_serializing_if = "Option::is_none")]
    validated: Option<Figures>,
    /// The validation questions answered wrongly at the chosen threshold, to
    /// see what the FAQ or the synonym list lacks (never the measured ones:
    /// reading those would tune on the test).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    validation_misses: Vec<Miss>,
}

#[derive(Debug, Serialize)]
struct Miss {
    question: String,
    expect: String,
    /// What the assistant did: an entry key, `graph`, or `refuse`.
    got: Option<String>,
    /// The closest entry, whatever the threshold.
    closest: Option<String>,
    confidence: f64,
}

fn read_questions(path: &Path) -> anyhow::Result<Vec<Question>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("{}:{}", path.display(), i + 1)))
        .collect()
}

async fn ask_all(engine: &Engine, questions: &[Question]) -> anyhow::Result<Vec<Asked>> {
    let options = AskOptions { threshold: Some(0.0), keep: false };
    let mut out = Vec::with_capacity(questions.len());
    for q in questions {
        let a = engine.ask_with(&q.question, q.lang.as_deref(), &options).await?;
        let best = match &a.source {
            Some(wantloop_engine::ask::AnswerSource::Faq { key, .. }) => Some(key.clone()),
            Some(wantloop_engine::ask::AnswerSource::Graph { .. }) => Some("graph".to_string()),
            None => None,
        };
        out.push(Asked {
            question: q.question.clone(),
            expect: q.expect.clone(),
            lang: a.lang,
            scorer: a.scorer,
            best,
            confidence: a.confidence,
        });
    }
    Ok(out)
}

fn correct(a: &Asked, thresholds: &Thresholds) -> bool {
    let answered = a.best.is_some() && a.confidence >= threshold_of(thresholds, &a.scorer);
    if a.expect == "refuse" { !answered } else { answered && a.best.as_deref() == Some(a.expect.as_str()) }
}

fn figures(asked: &[Asked], scorer: &str, thresholds: &Thresholds) -> Figures {
    let threshold = threshold_of(thresholds, scorer);
    let share = |v: Vec<bool>| v.iter().filter(|x| **x).count() as f64 / v.len().max(1) as f64;
    let answerable: Vec<&Asked> = asked.iter().filter(|a| a.expect != "refuse").collect();
    let mut per_language = BTreeMap::new();
    for lang in ["zh", "en"] {
        per_language.insert(
            lang.to_string(),
            share(asked.iter().filter(|a| a.lang == lang).map(|a| correct(a, thresholds)).collect()),
        );
    }
    Figures {
        threshold,
        meaning_threshold: asked
            .iter()
            .any(|a| a.scorer == MEANING_SCORER)
            .then(|| threshold_of(thresholds, MEANING_SCORER)),
        accuracy: share(asked.iter().map(|a| correct(a, thresholds)).collect()),
        answered_right: share(answerable.iter().map(|a| correct(a, thresholds)).collect()),
        refused_right: share(asked.iter().filter(|a| a.expect == "refuse").map(|a| correct(a, thresholds)).collect()),
        top1: share(answerable.iter().map(|a| a.best.as_deref() == Some(a.expect.as_str())).collect()),
        per_language,
    }
}

/// Per scorer, the threshold (in steps of 0.01) most accurate on the
/// questions it scored; the middle of the best run.
fn choose(asked: &[Asked]) -> Thresholds {
    let scorers: std::collections::BTreeSet<&str> =
        asked.iter().map(|a| a.scorer.as_str()).filter(|s| *s != "graph").collect();
    scorers
        .into_iter()
        .map(|scorer| {
            let own: Vec<&Asked> = asked.iter().filter(|a| a.scorer == scorer).collect();
            let scores: Vec<(f64, usize)> = (0..=100)
                .map(|i| {
                    let t = Thresholds::from([(scorer.to_string(), f64::from(i) / 100.0)]);
                    (f64::from(i) / 100.0, own.iter().filter(|a| correct(a, &t)).count())
                })
                .collect();
            let best = scores.iter().map(|s| s.1).max().unwrap_or(0);
            let run: Vec<f64> = scores.iter().filter(|s| s.1 == best).map(|s| s.0).collect();
            (scorer.to_string(), run[run.len() / 2])
        })
        .collect()
}

async fn report(engine: &Engine, a: &AskArgs, scorer: String, default: f64) -> anyhow::Result<ScorerReport> {
    let defaults = Thresholds::from([(scorer.clone(), default), (MEANING_SCORER.to_string(), MEANING_THRESHOLD)]);
    let measured = ask_all(engine, &read_questions(&a.questions)?).await?;
    let (validated, validation_misses) = match &a.validation {
        Some(v) => {
            let asked = ask_all(engine, &read_questions(v)?).await?;
            let mut t = choose(&asked);
            // A scorer the validation questions never met keeps its default.
            for (scorer, default) in &defaults {
                t.entry(scorer.clone()).or_insert(*default);
            }
            let misses = asked
                .into_iter()
                .filter(|q| !correct(q, &t))
                .map(|q| Miss {
                    got: if q.confidence >= threshold_of(&t, &q.scorer) {
                        q.best.clone()
                    } else {
                        Some("refuse".into())
                    },
                    closest: q.best,
                    question: q.question,
                    expect: q.expect,
                    confidence: q.confidence,
                })
                .collect();
            (Some(figures(&measured, &scorer, &t)), misses)
        }
        None => (None, Vec::new()),
    };
    Ok(ScorerReport { default: figures(&measured, &scorer, &defaults), scorer, validated, validation_misses })
}

/// A throwaway engine holding the FAQ and a generated market (the demo's
/// generator, for the graph's questions); returns the entries saved.
async fn open_engine(a: &AskArgs, dir: &Path, sentence_model: Option<PathBuf>) -> anyhow::Result<(Engine, usize)> {
    let config = EngineConfig { index: IndexLocation::Memory, sentence_model, ..EngineConfig::embedded(dir) };
    let engine = Engine::open(&config).await.context("cannot open a throwaway engine")?;
    let text = std::fs::read_to_string(&a.faq).with_context(|| format!("cannot read {}", a.faq.display()))?;
    let imported = engine.import_faq(&a.faq.to_string_lossy().to_lowercase(), &text).await?;
    if let Some(e) = imported.errors.first() {
        anyhow::bail!("{}:{}: {}", a.faq.display(), e.line, e.reason);
    }
    let market = crate::demo_data::generate(a.market_offers, 0, 7);
    let rows = market.offers.into_iter().enumerate().map(|(i, o)| (i as u64 + 1, Ok(o)));
    let stored =
        super::import::store_offers(&engine, rows, (super::import::BATCH_ROWS, None), &|_, _| {}, &|_| {}).await;
    anyhow::ensure!(stored.rejected == 0, "the market generator produced invalid rows");
    Ok((engine, imported.saved))
}

/// The loop an operator closes: the validation questions are asked as
/// people would ask them (kept when refused or unsure), the operator answers
/// each kept one that an entry answers (its label), adding it to the entry's
/// phrasings; then the measured questions are asked. On an engine of its
/// own, so the other figures are untouched.
async fn after_operator(a: &AskArgs, validation: &Path) -> anyhow::Result<(usize, ScorerReport)> {
    let dir = tempfile::tempdir()?;
    let (engine, _) = open_engine(a, dir.path(), None).await?;
    let mut entries: Vec<FaqEntry> = Vec::new();
    loop {
        let page = engine.faq_entries(entries.last().map_or(0, |e| e.id), 1_000).await?;
        if page.is_empty() {
            break;
        }
        entries.extend(page);
    }
    let keep = AskOptions { threshold: None, keep: true };
    let mut added = 0;
    for q in read_questions(validation)? {
        let asked = engine.ask_with(&q.question, q.lang.as_deref(), &keep).await?;
        let Some(kept) = asked.logged else { continue };
        let Some(entry) = entries.iter().find(|e| e.key == q.expect && e.lang == asked.lang) else { continue };
        let resolved = engine.resolve_question(kept, Some(entry.id), true).await?;
        added += usize::from(resolved.is_some_and(|r| r.phrasing_added));
    }
    let measured = ask_all(&engine, &read_questions(&a.questions)?).await?;
    let report = ScorerReport {
        scorer: "lexical, after the operator answered the kept validation questions".into(),
        default: figures(&measured, "lexical", &Thresholds::from([("lexical".to_string(), LEXICAL_THRESHOLD)])),
        validated: None,
        validation_misses: Vec::new(),
    };
    Ok((added, report))
}

pub async fn eval_ask(a: AskArgs) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let (engine, saved) = open_engine(&a, dir.path(), None).await?;
    let lexical = report(&engine, &a, "lexical".into(), LEXICAL_THRESHOLD).await?;
    // English by meaning, Chinese as before: on an engine of its own.
    let sentence_model = a.data_dir.as_deref().and_then(wantloop_ml::sentence::installed);
    let meaning = match sentence_model {
        Some(model) => {
            let dir = tempfile::tempdir()?;
            let (engine, _) = open_engine(&a, dir.path(), Some(model)).await?;
            let wait = std::time::Duration::from_secs(1_800);
            anyhow::ensure!(engine.faq_embedded(wait).await?, "the FAQ's English phrasings were not embedded");
            let mut r = report(&engine, &a, "lexical".into(), LEXICAL_THRESHOLD).await?;
            r.scorer = format!("{MEANING_SCORER} for English, lexical for Chinese");
            Some(r)
        }
        None => None,
    };
    let operator = match &a.validation {
        Some(v) => Some(after_operator(&a, v).await?),
        None => None,
    };
    let extra = match &a.pairs {
        Some(p) => wantloop_eval::pair_file::read(p)?.pairs,
        None => Vec::new(),
    };
    let trained = engine.train_paraphrase(extra, true).await?;
    let paraphrase = report(&engine, &a, trained.model.tag(), trained.report.threshold).await?;
    let out = serde_json::json!({
        "faq_entries": saved,
        "scorer_training": trained.report,
        "lexical": lexical,
        "paraphrase": paraphrase,
        "meaning": meaning,
        "after_operator": operator.as_ref().map(|(added, r)| serde_json::json!({"phrasings_added": added, "report": r})),
    });
    if a.json {
        println!("{out}");
    } else {
        for r in [Some(&lexical), Some(&paraphrase), meaning.as_ref()].into_iter().flatten() {
            let f = r.validated.as_ref().unwrap_or(&r.default);
            let meaning = f.meaning_threshold.map(|t| format!(" and {t:.2} by meaning")).unwrap_or_default();
            println!(
                "{}: accuracy {:.3} at threshold {:.2}{meaning} (answered right {:.3}, refused right {:.3}, top-1 {:.3}); at the default {:.2}: {:.3}",
                r.scorer,
                f.accuracy,
                f.threshold,
                f.answered_right,
                f.refused_right,
                f.top1,
                r.default.threshold,
                r.default.accuracy
            );
        }
        if let Some((added, r)) = &operator {
            println!(
                "{} ({added} phrasings added): accuracy {:.3} at {:.2}",
                r.scorer, r.default.accuracy, r.default.threshold
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
