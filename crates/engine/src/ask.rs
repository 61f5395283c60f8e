//! The assistant behind `POST /v1/ask`: a question goes to the market graph
//! when a pattern fits (`graph/`), else to the FAQ: entries in BM25 order
//! in its language, the first one's confidence from the paraphrase scorer
//! when one is active (else from how much of the question it covers); an
//! English question, once the sentence model has embedded the FAQ, by
//! meaning blended with its words (`faq_meaning.rs`), whether or not a
//! scorer is active; and
//! answered only when that confidence clears the threshold; otherwise it says it cannot answer, suggests the
//! closest questions, and keeps the question for the operator, whose choice
//! of entry becomes labelled pairs for the scorer's next training.
//!
//! Each node keeps the FAQ in memory and reloads it when the store's newest
//! `faq.changed` event is not the one it loaded at: one index seek a question.

use std::sync::{Arc, OnceLock, RwLock};

use serde::Serialize;
use wantloop_core::ValidationError;
use wantloop_ml::paraphrase::{Analysed, LabelledPair, LexicalIndex, Tokenisation};
use wantloop_ml::sentence::SentenceEncoder;
use wantloop_search::Synonyms;
use wantloop_store::{AskedQuestion, FaqEntry, NewAskedQuestion, PhrasingRule, ResolvedQuestion};

use crate::faq::{LANGUAGES, MAX_FAQ_ENTRIES, MAX_PHRASING_CHARS, MAX_PHRASINGS};
use crate::faq_meaning::{INLINE_EMBEDDINGS, Meanings, VectorCache, embed_phrasings, rank_by_meaning};
use crate::{Engine, EngineError};

pub const MAX_QUESTION_CHARS: usize = 500;
/// Entries considered per question.
const CANDIDATES: usize = 10;
const ALTERNATIVES: usize = 3;
/// Without a scorer: the share of the question's words (idf-weighted) the
/// best entry must cover to answer. Chosen on the demo's validation
/// questions (`wantloop eval ask`), never on its test ones.
pub const LEXICAL_THRESHOLD: f64 = 0.27;
/// With the sentence model, an English question's confidence that answers:
/// 0.55 × its closest phrasing's cosine + 0.45 × the entry's word coverage
/// (`faq_meaning.rs`). Both chosen on the demo's validation questions (the
/// weight from 0.2 to 1 in tenths, best at 0.5 and 0.6, then their middle
/// 0.55 and its threshold), never on its test ones. The words still count:
/// the cosine alone missed 13 of the 45 English validation questions, the
/// blend 8.
pub const MEANING_THRESHOLD: f64 = 0.41;
/// What scored an English question matched by meaning.
pub const MEANING_SCORER: &str = "meaning (all-MiniLM-L6-v2)";
/// Answers this close above the threshold are logged as low-confidence.
const LOW_CONFIDENCE_BAND: f64 = 0.1;
const REFUSAL_ZH: &str = "对不起，我无法回答这个问题。";
const REFUSAL_EN: &str = "Sorry, I can't answer that.";

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AnswerSource {
    /// An FAQ entry, and the phrasing of it the question matched.
    Faq { entry: i64, key: String, question: String },
    /// A query of the market's knowledge graph, and what it found.
    Graph {
        query: String,
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        facts: serde_json::Value,
    },
}

/// A close FAQ entry, as an alternative or a suggestion.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Suggestion {
    pub entry: i64,
    pub key: String,
    pub question: String,
    pub confidence: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Answer {
    /// False: the assistant could not answer, and `answer` says so.
    pub answered: bool,
    pub answer: String,
    /// `zh` or `en`: the question's language, given or detected.
    pub lang: String,
    pub source: Option<AnswerSource>,
    /// In [0, 1]: the paraphrase scorer's probability that the question asks what the matched
    /// phrasing asks; else the share of the question's words the entry covers, blended for an
    /// English question matched by meaning with its closest phrasing's cosine.
    pub confidence: f64,
    /// The confidence that answers.
    pub threshold: f64,
    /// Up to three other entries (when answered) or the closest ones (when not).
    pub alternatives: Vec<Suggestion>,
    /// What scored the match: `meaning (all-MiniLM-L6-v2)` (an English question, with the
    /// sentence model installed), `paraphrase vN`, or `lexical` (no scorer active).
    pub scorer: String,
    /// The id under which the question was kept for the operator, if it was.
    pub logged: Option<i64>,
    /// The question as matched, when a misspelt English word in it was read
    /// as a word the FAQ knows ("canel" as "cancel").
    pub corrected: Option<String>,
}

/// How [`Engine::ask_with`] answers.
#[derive(Debug, Clone, Default)]
pub struct AskOptions {
    /// The confidence that answers, whatever scored it (default: that scorer's own threshold:
    /// the meaning, paraphrase or lexical one).
    pub threshold: Option<f64>,
    /// Keep refused and low-confidence questions for the operator.
    pub keep: bool,
}

pub(crate) struct FaqState {
    /// The newest `faq.changed` event when loaded.
    pub(crate) version: i64,
    entries: Vec<FaqEntry>,
    /// One document per entry (in `entries`' order): its phrasings and its
    /// answer together. On the demo's validation questions this found the
    /// right entry first for 63 % against 53 % for the best single phrasing:
    /// people's words are spread over an entry's phrasings and its answer.
    index: LexicalIndex,
    /// Per entry, its phrasings analysed, for the paraphrase scorer.
    phrasings: Vec<Vec<Analysed>>,
    /// With the sentence model: per entry, its phrasings' vectors (empty
    /// for entries not in English); set at build or, for a large FAQ, by a
    /// background task (`faq_meaning.rs`).
    meanings: OnceLock<Meanings>,
    /// Some entry is in English: the sentence model has work here.
    pub(crate) english: bool,
}

impl FaqState {
    pub(crate) fn build(version: i64, entries: Vec<FaqEntry>) -> Self {
        Self::build_with(version, entries, None)
    }

    /// With the sentence model, each English phrasing embedded when at most
    /// [`INLINE_EMBEDDINGS`] are not in the cache; else [`Engine::faq_state`]
    /// embeds them in the background.
    pub(crate) fn build_with(
        version: i64,
        entries: Vec<FaqEntry>,
        sentences: Option<(&SentenceEncoder, &VectorCache)>,
    ) -> Self {
        let documents: Vec<String> =
            entries.iter().map(|e| format!("{}\n{}", e.questions.join("\n"), e.answer)).collect();
        let phrasings = entries.iter().map(|e| e.questions.iter().map(|q| Analysed::of(q)).collect()).collect();
        let english = entries.iter().any(|e| e.lang == "en");
        let meanings = OnceLock::new();
        if let Some((encoder, cache)) = sentences.filter(|_| english)
            && let Some(m) = embed_phrasings(&entries, encoder, cache, INLINE_EMBEDDINGS, &|| false)
        {
            cache.keep_only(&entries);
            let _ = meanings.set(m);
        }
        FaqState { version, index: LexicalIndex::build(&documents), entries, phrasings, meanings, english }
    }

    pub(crate) fn entries(&self) -> &[FaqEntry] {
        &self.entries
    }

    pub(crate) fn index(&self) -> &LexicalIndex {
        &self.index
    }

    /// The phrasings' vectors, once embedded.
    pub(crate) fn meanings(&self) -> Option<&Meanings> {
        self.meanings.get()
    }

    /// Records the vectors a background run made (once; a later set is ignored).
    pub(crate) fn set_meanings(&self, meanings: Meanings) {
        let _ = self.meanings.set(meanings);
    }
}

/// This node's copy of the FAQ.
#[derive(Default)]
pub struct Assistant {
    /// The imported triples as last loaded.
    pub(crate) triples: RwLock<Option<Arc<crate::graph::triples::Facts>>>,
    pub(crate) reload_triples: tokio::sync::Mutex<()>,
    pub(crate) faq: RwLock<Option<Arc<FaqState>>>,
    reload: tokio::sync::Mutex<()>,
    /// The English phrasings' vectors, kept across reloads (`faq_meaning.rs`).
    pub(crate) vectors: Arc<VectorCache>,
    /// Held by a test to keep the background embedding from starting.
    #[cfg(feature = "testing")]
    pub(crate) embedding_gate: Arc<tokio::sync::RwLock<()>>,
}

/// `zh` when the text has Chinese characters, else `en`.
pub fn detect_language(text: &str) -> &'static str {
    let cjk = |c: char| ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c);
    if text.chars().any(cjk) { "zh" } else { "en" }
}

fn check_question(question: &str, lang: Option<&str>) -> Result<(String, String), ValidationError> {
    let q = question.trim();
    if q.is_empty() || !q.chars().any(char::is_alphanumeric) {
        return Err(ValidationError::one("question", "a question needs words"));
    }
    if q.chars().count() > MAX_QUESTION_CHARS {
        return Err(ValidationError::one("question", format!("at most {MAX_QUESTION_CHARS} characters")));
    }
    if q.chars().any(|c| c.is_control()) {
        return Err(ValidationError::one("question", "control characters are not allowed"));
    }
    let lang = match lang.map(|l| l.trim().to_ascii_lowercase()) {
        Some(l) if LANGUAGES.contains(&l.as_str()) => l,
        Some(l) => return Err(ValidationError::one("lang", format!("{l:?} is not one of zh, en"))),
        None => detect_language(q).to_string(),
    };
    Ok((q.to_string(), lang))
}

/// Pairs for the scorer from the FAQ itself: phrasings of one entry are
/// paraphrases; each phrasing against the other entries' phrasings BM25
/// finds closest (the confusions that matter) is not.
pub fn faq_pairs(entries: &[FaqEntry]) -> Vec<LabelledPair> {
    let mut texts = Vec::new();
    let mut owner = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        for q in &e.questions {
            texts.push(q.clone());
            owner.push(i);
        }
    }
    let index = LexicalIndex::build(&texts);
    let mut pairs = Vec::new();
    for (i, a) in texts.iter().enumerate() {
        for (j, b) in texts.iter().enumerate().skip(i + 1) {
            if owner[i] == owner[j] {
                pairs.push(LabelledPair { a: a.clone(), b: b.clone(), label: true });
            }
        }
        let lang = &entries[owner[i]].lang;
        let other = |d: usize| owner[d] == owner[i] || entries[owner[d]].lang != *lang;
        for hit in index.search(index.document(i), 3, &other) {
            pairs.push(LabelledPair { a: a.clone(), b: texts[hit.document].clone(), label: false });
        }
    }
    pairs
}

impl Engine {
    pub(crate) async fn faq_state(&self) -> Result<Arc<FaqState>, EngineError> {
        let version = self.store.last_event_id_of(&["faq.changed"]).await?;
        let current = || self.assistant.faq.read().ok().and_then(|g| g.clone());
        if let Some(s) = current().filter(|s| s.version == version) {
            return Ok(s);
        }
        let _one_reload = self.assistant.reload.lock().await;
        if let Some(s) = current().filter(|s| s.version == version) {
            return Ok(s);
        }
        let entries = self.store.faq_entries(0, MAX_FAQ_ENTRIES as u32).await?;
        let (sentences, assistant) = (self.sentences.clone(), self.assistant.clone());
        let state = tokio::task::spawn_blocking(move || {
            FaqState::build_with(version, entries, sentences.as_deref().map(|s| (s, &*assistant.vectors)))
        })
        .await
        .map_err(|e| EngineError::Task(e.to_string()))?;
        let state = Arc::new(state);
        if let Ok(mut g) = self.assistant.faq.write() {
            *g = Some(state.clone());
        }
        if let Some(encoder) = self.sentences.clone().filter(|_| state.english && state.meanings().is_none()) {
            self.embed_in_background(state.clone(), encoder);
        }
        Ok(state)
    }

    /// Answers a question from the FAQ, or says it cannot.
    pub async fn ask(&self, question: &str, lang: Option<&str>) -> Result<Answer, EngineError> {
        self.ask_with(question, lang, &AskOptions { threshold: None, keep: true }).await
    }

    /// [`Engine::ask`] with another threshold, or without keeping the
    /// question for the operator (evaluations).
    pub async fn ask_with(
        &self,
        question: &str,
        lang: Option<&str>,
        options: &AskOptions,
    ) -> Result<Answer, EngineError> {
        let (question, lang) = check_question(question, lang)?;
        // The graph first, also about an item it knows only by its words: on
        // the demo's validation questions, asking the FAQ first for those
        // answered price questions from FAQ entries about money (0.644
        // accuracy against 0.667). The cost: "押金多少钱" gets a price range
        // if an offer's text names a deposit.
        let known = self.triples_state().await?;
        let is_subject = |s: &str| !known.about(s).is_empty();
        if let Some(q) = crate::graph::parse::parse(&wantloop_text::normalise(&question), &is_subject)
            && let Some(answer) = self.graph_answer(&q, &lang, &known).await?
        {
            return Ok(answer);
        }
        let faq = self.faq_state().await?;
        let scorer = self.paraphrase_for(&lang);
        let (corrected, ranked, meaning) = self.ranked(&faq, &question, &lang, scorer.clone()).await?;
        let (scorer_name, threshold) = match &scorer {
            _ if meaning => (MEANING_SCORER.to_string(), MEANING_THRESHOLD),
            Some(s) => (format!("paraphrase v{}", s.info.version), s.model.threshold()),
            None => ("lexical".to_string(), LEXICAL_THRESHOLD),
        };
        let threshold = options.threshold.unwrap_or(threshold);
        let confidence = ranked.first().map_or(0.0, |s| s.confidence);
        let answered = !ranked.is_empty() && confidence >= threshold;
        let refusal = if lang == "zh" { REFUSAL_ZH } else { REFUSAL_EN };
        let (answer, source, alternatives) = match ranked.split_first() {
            Some((best, rest)) if answered => {
                let entry = faq.entries.iter().find(|e| e.id == best.entry).expect("ranked from the FAQ");
                let source =
                    AnswerSource::Faq { entry: best.entry, key: best.key.clone(), question: best.question.clone() };
                (entry.answer.clone(), Some(source), rest.iter().take(ALTERNATIVES).cloned().collect())
            }
            _ => (refusal.to_string(), None, ranked.iter().take(ALTERNATIVES).cloned().collect()),
        };
        let outcome = if !answered {
            Some("refused")
        } else if confidence < threshold + LOW_CONFIDENCE_BAND {
            Some("low_confidence")
        } else {
            None
        };
        let logged = match outcome {
            Some(outcome) if options.keep => {
                let kept = NewAskedQuestion {
                    question: question.clone(),
                    lang: lang.clone(),
                    outcome: outcome.to_string(),
                    confidence,
                    best_entry: ranked.first().map(|s| s.entry),
                };
                Some(self.store.log_question(&kept).await?.id)
            }
            _ => None,
        };
        Ok(Answer {
            answered,
            answer,
            lang,
            source,
            confidence,
            threshold,
            alternatives,
            scorer: scorer_name,
            logged,
            corrected,
        })
    }

    /// The FAQ entries closest to a question, best first, with their
    /// confidence whatever the threshold, and nothing kept: what an
    /// operator picks the right entry from.
    pub async fn closest_entries(&self, question: &str, lang: Option<&str>) -> Result<Vec<Suggestion>, EngineError> {
        let (question, lang) = check_question(question, lang)?;
        let faq = self.faq_state().await?;
        Ok(self.ranked(&faq, &question, &lang, self.paraphrase_for(&lang)).await?.1)
    }

    /// The paraphrase scorer for a question in `lang`: none for English when
    /// the sentence model serves it (the scorer is judged on the other
    /// languages only, so it never answers English, even while the FAQ is
    /// being embedded).
    fn paraphrase_for(
        &self,
        lang: &str,
    ) -> Option<Arc<crate::models::Loaded<Arc<wantloop_ml::paraphrase::ParaphraseScorer>>>> {
        self.paraphrase.get().filter(|_| self.paraphrase_serves(lang))
    }

    /// Whether a paraphrase scorer answers questions in `lang`: every language
    /// but English when the sentence model matches English by meaning. The
    /// retraining gate judges a scorer on these languages alone.
    pub(crate) fn paraphrase_serves(&self, lang: &str) -> bool {
        self.sentences.is_none() || lang != "en"
    }

    /// [`rank`] off the async workers, with the search's synonyms and, for
    /// an English question once the FAQ is embedded, the sentence model
    /// (the last value: whether it ranked by meaning).
    async fn ranked(
        &self,
        faq: &Arc<FaqState>,
        question: &str,
        lang: &str,
        scorer: Option<Arc<crate::models::Loaded<Arc<wantloop_ml::paraphrase::ParaphraseScorer>>>>,
    ) -> Result<(Option<String>, Vec<Suggestion>, bool), EngineError> {
        let (faq, lang, question) = (faq.clone(), lang.to_string(), question.to_string());
        let synonyms = self.search.synonyms();
        let sentences = self.sentences.clone();
        tokio::task::spawn_blocking(move || {
            let encoder = sentences.as_deref().filter(|_| lang == "en");
            rank(&faq, &question, &synonyms, &lang, scorer.as_ref().map(|s| &*s.model), encoder)
        })
        .await
        .map_err(|e| EngineError::Task(e.to_string()))
    }

    /// The graph's answer to a question pattern, when the graph knows.
    async fn graph_answer(
        &self,
        query: &crate::graph::parse::GraphQuery,
        lang: &str,
        known: &crate::graph::triples::Facts,
    ) -> Result<Option<Answer>, EngineError> {
        let Some(g) = crate::graph::answer(self, query, lang, known).await? else { return Ok(None) };
        Ok(Some(Answer {
            answered: true,
            answer: g.text,
            lang: lang.to_string(),
            source: Some(AnswerSource::Graph { query: g.query, facts: g.facts }),
            confidence: 1.0,
            threshold: 1.0,
            alternatives: Vec::new(),
            scorer: "graph".into(),
            logged: None,
            corrected: None,
        }))
    }

    /// Kept questions: the open ones, or those the operator answered.
    pub async fn asked_questions(
        &self,
        resolved: bool,
        after: i64,
        limit: u32,
    ) -> Result<Vec<AskedQuestion>, EngineError> {
        Ok(self.store.asked_questions(resolved, after, limit.clamp(1, 1_000)).await?)
    }

    /// The operator's answer to a kept question: the entry that answers it,
    /// or `None` when no entry does (refusing it was right). With
    /// `add_phrasing` the question also becomes one of the entry's phrasings
    /// (same language, within the FAQ's bounds), which every node then
    /// matches it against.
    pub async fn resolve_question(
        &self,
        id: i64,
        entry: Option<i64>,
        add_phrasing: bool,
    ) -> Result<Option<ResolvedQuestion>, EngineError> {
        if let Some(entry) = entry
            && self.store.faq_entry(entry).await?.is_none()
        {
            return Err(ValidationError::one("entry", format!("there is no FAQ entry {entry}")).into());
        }
        let rule = add_phrasing.then_some(PhrasingRule { max_phrasings: MAX_PHRASINGS, max_chars: MAX_PHRASING_CHARS });
        Ok(self.store.resolve_question(id, entry, rule).await?)
    }

    /// Training pairs from the operators' answers (see [`answer_pairs`]).
    pub async fn operator_pairs(&self) -> Result<Vec<LabelledPair>, EngineError> {
        let answered = self.answered_questions().await?;
        let entries = self.store.faq_entries(0, MAX_FAQ_ENTRIES as u32).await?;
        Ok(answer_pairs(&answered, &entries))
    }

    /// Every question an operator answered (with an entry or none), by id.
    pub(crate) async fn answered_questions(&self) -> Result<Vec<AskedQuestion>, EngineError> {
        let mut all = Vec::new();
        loop {
            let after = all.last().map_or(0, |q: &AskedQuestion| q.id);
            let page = self.store.asked_questions(true, after, 1_000).await?;
            if page.is_empty() {
                return Ok(all);
            }
            all.extend(page);
        }
    }
}

/// Training pairs from the operators' answers: the question against its
/// chosen entry's phrasings (paraphrases) and against the phrasings of the
/// entry the assistant had found closest, when that was another or none
/// answers it (not).
pub(crate) fn answer_pairs(answered: &[AskedQuestion], entries: &[FaqEntry]) -> Vec<LabelledPair> {
    let by_id: std::collections::HashMap<i64, &FaqEntry> = entries.iter().map(|e| (e.id, e)).collect();
    let mut pairs = Vec::new();
    let with = |q: &AskedQuestion, e: &FaqEntry, label: bool| {
        e.questions.iter().map(move |p| LabelledPair { a: q.question.clone(), b: p.clone(), label }).collect::<Vec<_>>()
    };
    for q in answered {
        if let Some(e) = q.chosen_entry.and_then(|c| by_id.get(&c))
            // A question the answer made a phrasing of the entry is
            // already paired with the others by the FAQ's own pairs.
            && !e.questions.iter().any(|p| p.trim() == q.question.trim())
        {
            pairs.extend(with(q, e, true));
        }
        if let Some(e) = q.best_entry.filter(|b| Some(*b) != q.chosen_entry).and_then(|b| by_id.get(&b)) {
            pairs.extend(with(q, e, false));
        }
    }
    pairs
}

/// What the FAQ answers `question` with, under `scorer` (else the lexical
/// confidence) at `threshold`: the entry, or `None` when it refuses.
pub(crate) fn faq_answer(
    faq: &FaqState,
    question: &str,
    synonyms: &Synonyms,
    lang: &str,
    scorer: Option<&wantloop_ml::paraphrase::ParaphraseScorer>,
    threshold: f64,
) -> Option<i64> {
    let (_, ranked, _) = rank(faq, question, synonyms, lang, scorer, None);
    ranked.first().filter(|best| best.confidence >= threshold).map(|best| best.entry)
}

/// Entries for a question in BM25 order, each with its confidence and the
/// phrasing closest to the question, and the question as read when a typo
/// in it was corrected. In an English question, a word no entry holds and
/// no English dictionary knows is first read as the entry word it most
/// likely misspells (`typos.rs`). The candidates are
/// found with the question and its synonyms (the search's list: 单车 also
/// finds 自行车); the confidence is of the question as read, without its
/// synonyms: with a scorer, its probability for the best phrasing; without
/// one, the share of the question's words (idf-weighted) the entry covers.
///
/// With the sentence model (`encoder`, English questions) and the FAQ
/// embedded, the candidates are also the entries whose phrasings are
/// closest in meaning, and an entry's confidence blends its closest
/// phrasing's cosine to the question with its word coverage (see
/// [`MEANING_THRESHOLD`]); the last value says whether it did.
fn rank(
    faq: &FaqState,
    question: &str,
    synonyms: &Synonyms,
    lang: &str,
    scorer: Option<&wantloop_ml::paraphrase::ParaphraseScorer>,
    encoder: Option<&SentenceEncoder>,
) -> (Option<String>, Vec<Suggestion>, bool) {
    // English only (Chinese typos are characters of the same sound); the
    // words of the synonym list ("ebike") are meant as written.
    let corrected = (lang == "en").then(|| faq.index.correct_typos(question, &|w| synonyms.has_word(w))).flatten();
    let question = corrected.as_deref().unwrap_or(question);
    let expansions = synonyms.expansions(question);
    let query = Analysed::of(question);
    let wider = if expansions.is_empty() {
        query.clone()
    } else {
        Analysed::of(&format!("{question}\n{}", expansions.join("\n")))
    };
    let has_lang = faq.entries.iter().any(|e| e.lang == lang);
    let skip = |d: usize| has_lang && faq.entries[d].lang != lang;
    let overlap = |p: &Analysed| {
        let (q, p) = (query.set(Tokenisation::Bigrams), p.set(Tokenisation::Bigrams));
        q.iter().filter(|t| p.binary_search(t).is_ok()).count()
    };
    let hits = faq.index.search(&wider, CANDIDATES, &skip);
    if let (Some(encoder), Some(meanings)) = (encoder, faq.meanings()) {
        match encoder.embed(question) {
            Ok(asked) => return (corrected, rank_by_meaning(faq, meanings, &asked, &hits, &query, &skip), true),
            // Never expected (any text embeds): then by its words.
            Err(e) => tracing::warn!(error = %e, "cannot embed a question; matching it by its words"),
        }
    }
    let ranked = hits
        .into_iter()
        .map(|hit| {
            let entry = &faq.entries[hit.document];
            let phrasings = &faq.phrasings[hit.document];
            let (closest, confidence) = match scorer {
                Some(s) => phrasings
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (i, s.score_analysed(&query, p).probability))
                    .max_by(|a, b| a.1.total_cmp(&b.1))
                    .unwrap_or((0, 0.0)),
                None => {
                    let i = (0..phrasings.len()).max_by_key(|&i| (overlap(&phrasings[i]), usize::MAX - i)).unwrap_or(0);
                    (i, faq.index.word_coverage(&query, hit.document))
                }
            };
            Suggestion {
                entry: entry.id,
                key: entry.key.clone(),
                question: entry.questions.get(closest).cloned().unwrap_or_default(),
                confidence,
            }
        })
        .collect();
    (corrected, ranked, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_are_checked_and_languages_detected() {
        assert_eq!(check_question(" 怎么发布需求？ ", None).unwrap(), ("怎么发布需求？".into(), "zh".into()));
        assert_eq!(check_question("how do I post?", None).unwrap().1, "en");
        assert_eq!(check_question("how", Some("ZH")).unwrap().1, "zh");
        let field = |q: &str, l: Option<&str>| check_question(q, l).unwrap_err().0[0].field.clone();
        assert_eq!(field("？？", None), "question");
        assert_eq!(field(&"问".repeat(501), None), "question");
        assert_eq!(field("hi", Some("fr")), "lang");
    }
}
