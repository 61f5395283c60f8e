//! The one query builder. What a person types, a demand's text and "more like
//! this offer" all become a tantivy query here, so the search API, the
//! matcher's candidates and similar offers cannot drift apart.
//!
//! Text is read leniently, as search boxes do: it is a bag of terms (its
//! words and its character bigrams, scored by BM25 with OR semantics), and
//! query syntax applies only where it is unmistakable — a closed `"phrase"`,
//! a `-word` or `NOT word` to exclude, `AND` between two terms to require both.
//! Nothing else is syntax: a colon, brackets or an unclosed quote are text, so
//! no query is ever rejected for what it says. (Hand-written: tantivy's
//! parser, even in lenient mode, reads `a:b` as a field and a multi-token word
//! as a phrase, which is wrong for Chinese text without spaces.)

use std::collections::HashSet;

use tantivy::query::{
    AllQuery, Bm25StatisticsProvider, BooleanQuery, BoostQuery, EmptyQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Index, Term};

use crate::SearchError;
use crate::fields::Fields;
use crate::synonyms::{EXPANSION_WEIGHT, Synonyms};

/// Most distinct terms a bag takes from one field: bounds the work of a query
/// whatever the length of its text.
pub const MAX_TERMS_PER_FIELD: usize = 48;

/// How much a matcher's query may read: the summed document frequency of
/// the terms it keeps from a text (a demand's or an offer's). A long text
/// would otherwise become a union of ~100 terms, common ones among them, whose
/// cost grows with the catalogue. The rarest terms are kept first — cheap to
/// read, and they carry most of the BM25 score — until the budget is spent;
/// the common ones after them are dropped (Lucene's more-like-this bounds its
/// query the same way, by its 25 best terms).
pub const MATCH_QUERY_POSTINGS: u64 = 16_000;
/// The rarest terms a matcher's query keeps whatever they cost, so a text of
/// only common words still ranks by them.
pub const MATCH_QUERY_MIN_TERMS: usize = 3;

/// Weight of each field's terms in a bag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueryWeights {
    /// jieba words (with search-mode sub-words) and English stems.
    pub words: f32,
    /// Characters and character bigrams of CJK text, the recall net for
    /// unsegmented questions.
    pub bigrams: f32,
    /// The title of plain documents (empty for offers and demands).
    pub title: f32,
}

impl Default for QueryWeights {
    /// The ratio of word to character weights (1 : 4) was chosen on the BQ dev
    /// pairs over 1 : 0 … 1 : 8 (README, "Search"); English text has no
    /// character terms, so its ranking does not depend on it.
    fn default() -> Self {
        Self { words: 1.0, bigrams: 4.0, title: 2.0 }
    }
}

/// A query as typed, split into what it asks for.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ParsedQuery {
    /// Free text: a bag of terms, any of which may match.
    pub text: String,
    /// Closed quotes: each must match as a phrase.
    pub phrases: Vec<String>,
    /// Terms joined by `AND`: each must match.
    pub required: Vec<String>,
    /// `-word`, `-"phrase"`, `NOT word`: none may match.
    pub excluded: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Word(String),
    Phrase(String),
}

/// Splits a query into items: closed quotes are phrases, the rest are
/// whitespace-separated words (an unclosed quote is an ordinary character).
fn items(q: &str) -> Vec<Item> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut chars = q.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '"'
            && let Some(len) = q[i + 1..].find('"')
        {
            // `-"phrase"` keeps its sign as a word prefix.
            let sign = std::mem::take(&mut word);
            if !sign.is_empty() && sign != "-" {
                out.push(Item::Word(sign.clone()));
            }
            let phrase = q[i + 1..i + 1 + len].to_string();
            out.push(if sign == "-" { Item::Word(format!("-\"{phrase}\"")) } else { Item::Phrase(phrase) });
            while chars.peek().is_some_and(|(j, _)| *j <= i + 1 + len) {
                chars.next();
            }
            continue;
        }
        if c.is_whitespace() {
            if !word.is_empty() {
                out.push(Item::Word(std::mem::take(&mut word)));
            }
        } else {
            word.push(c);
        }
    }
    if !word.is_empty() {
        out.push(Item::Word(word));
    }
    out
}

/// A word that negates: `-x` where x starts with a letter, a digit is not
/// enough (`-5` stays text), or a quote (`-"a b"`).
fn negated(w: &str) -> Option<Item> {
    let rest = w.strip_prefix('-')?;
    if let Some(p) = rest.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        return Some(Item::Phrase(p.to_string()));
    }
    rest.chars().next().filter(|c| c.is_alphabetic()).map(|_| Item::Word(rest.to_string()))
}

pub fn parse(q: &str) -> ParsedQuery {
    let items = items(q);
    let mut parsed = ParsedQuery::default();
    let mut text: Vec<String> = Vec::new();
    let mut i = 0;
    while i < items.len() {
        let next = items.get(i + 1);
        match &items[i] {
            Item::Phrase(p) => parsed.phrases.push(p.clone()),
            Item::Word(w) if w == "NOT" && next.is_some() => {
                parsed.excluded.push(next.cloned().unwrap_or(Item::Word(String::new())));
                i += 1;
            }
            Item::Word(w) if w == "OR" && i > 0 && next.is_some() => {}
            Item::Word(w) if w == "AND" && i > 0 && next.is_some() => {
                // Both neighbours are required: the one before moves out of the bag.
                if let Some(Item::Word(prev)) = items.get(i - 1)
                    && text.last() == Some(prev)
                {
                    text.pop();
                    parsed.required.push(prev.clone());
                }
                match next {
                    Some(Item::Word(n)) => match negated(n) {
                        Some(ex) => parsed.excluded.push(ex),
                        None => parsed.required.push(n.clone()),
                    },
                    Some(Item::Phrase(p)) => parsed.phrases.push(p.clone()),
                    None => {}
                }
                i += 1;
            }
            Item::Word(w) => match negated(w) {
                Some(ex) => parsed.excluded.push(ex),
                None => text.push(w.clone()),
            },
        }
        i += 1;
    }
    parsed.text = text.join(" ");
    parsed
}

/// Clauses of a boolean query.
pub(crate) type Clauses = Vec<(Occur, Box<dyn Query>)>;

/// Weighted terms as optional clauses: a boolean query of them scores a
/// document by the sum of its terms' boosted BM25.
pub(crate) fn weighted_clauses(terms: &[(Term, f32)]) -> Clauses {
    let clause = |(term, weight): &(Term, f32)| {
        let q: Box<dyn Query> = Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs));
        let q: Box<dyn Query> =
            if (weight - 1.0).abs() > f32::EPSILON { Box::new(BoostQuery::new(q, *weight)) } else { q };
        (Occur::Should, q)
    };
    terms.iter().map(clause).collect()
}

/// Builds queries against one index's fields and analysers.
pub(crate) struct QueryBuilder<'a> {
    pub index: &'a Index,
    pub fields: Fields,
    pub weights: QueryWeights,
    pub synonyms: std::sync::Arc<Synonyms>,
}

impl QueryBuilder<'_> {
    /// The distinct analysed terms of `text` in `field`, at most `MAX_TERMS_PER_FIELD`.
    fn terms(&self, field: Field, text: &str) -> Result<Vec<Term>, SearchError> {
        let mut analyzer = self.index.tokenizer_for_field(field)?;
        let mut stream = analyzer.token_stream(text);
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        while stream.advance() && out.len() < MAX_TERMS_PER_FIELD {
            let t = &stream.token().text;
            if seen.insert(t.clone()) {
                out.push(Term::from_field_text(field, t));
            }
        }
        Ok(out)
    }

    /// Each term of `text` in the words and bigram fields (and the title, for
    /// plain documents) with its field's weight, then the terms of its
    /// synonyms' expansions (at most [`MAX_TERMS_PER_FIELD`] more).
    fn weighted_terms(&self, text: &str, fields: &[(Field, f32)]) -> Result<Vec<(Term, f32)>, SearchError> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for &(field, weight) in fields {
            for term in self.terms(field, text)? {
                if seen.insert(term.clone()) {
                    out.push((term, weight));
                }
            }
        }
        // Each expansion's terms share half the weight its source phrase
        // has in the literal query: bigrams weigh 4× words, so without this
        // an English word expanded into Chinese would outrank itself.
        let mut added = 0;
        for (from, to) in self.synonyms.expansions_from(text) {
            let mut source = 0.0;
            let mut terms: Vec<Term> = Vec::new();
            for &(field, weight) in fields {
                source += weight * self.terms(field, &from)?.len() as f32;
                // A single character of a synonym (车 of 单车) is recall
                // noise the literal query already has, not a meaning.
                terms.extend(
                    self.terms(field, &to)?.into_iter().filter(|t| {
                        t.value().as_str().is_some_and(|t| t.chars().nth(1).is_some()) && !seen.contains(t)
                    }),
                );
            }
            if terms.is_empty() {
                continue;
            }
            let each = source * EXPANSION_WEIGHT / terms.len() as f32;
            for term in terms {
                if added < MAX_TERMS_PER_FIELD && seen.insert(term.clone()) {
                    out.push((term, each));
                    added += 1;
                }
            }
        }
        Ok(out)
    }

    fn bag_fields(&self) -> Vec<(Field, f32)> {
        let (f, w) = (self.fields, self.weights);
        [(f.text, w.words), (f.bigrams, w.bigrams), (f.title, w.title)].into_iter().filter(|(_, w)| *w > 0.0).collect()
    }

    /// Each term of `text` and of its synonyms' expansions (see
    /// `weighted_terms`) as an optional, weighted clause.
    pub fn bag(&self, text: &str) -> Result<Clauses, SearchError> {
        let mut clauses: Clauses = Vec::new();
        for (term, weight) in self.weighted_terms(text, &self.bag_fields())? {
            let q: Box<dyn Query> = Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
            let q = if (weight - 1.0).abs() > f32::EPSILON { Box::new(BoostQuery::new(q, weight)) } else { q };
            clauses.push((Occur::Should, q));
        }
        Ok(clauses)
    }

    /// The terms of `text` that occur in the index, rarest first (ties in
    /// text order), each with its field's weight (a boost of its BM25), while
    /// their summed document frequency stays within `budget` (the first
    /// [`MATCH_QUERY_MIN_TERMS`] always): a query whose cost is bounded
    /// whatever the text and the catalogue.
    pub fn informative_terms(
        &self,
        stats: &dyn Bm25StatisticsProvider,
        text: &str,
        budget: u64,
    ) -> Result<Vec<(Term, f32)>, SearchError> {
        let (f, w) = (self.fields, self.weights);
        let fields: Vec<(Field, f32)> =
            [(f.text, w.words), (f.bigrams, w.bigrams)].into_iter().filter(|(_, w)| *w > 0.0).collect();
        let mut scored: Vec<(u64, f32, Term)> = Vec::new();
        for (term, weight) in self.weighted_terms(text, &fields)? {
            let df = stats.doc_freq(&term)?;
            if df > 0 {
                scored.push((df, weight, term));
            }
        }
        scored.sort_by_key(|(df, _, _)| *df);
        let mut spent = 0;
        let mut out = Vec::new();
        for (df, weight, term) in scored {
            if out.len() >= MATCH_QUERY_MIN_TERMS && spent + df > budget {
                break;
            }
            spent += df;
            out.push((term, weight));
        }
        Ok(out)
    }

    /// Any of the terms of `text`: one clause that matches when one does.
    fn any_of(&self, text: &str) -> Result<Option<Box<dyn Query>>, SearchError> {
        let bag = self.bag(text)?;
        Ok((!bag.is_empty()).then(|| Box::new(BooleanQuery::new(bag)) as Box<dyn Query>))
    }

    /// `text` as a phrase in the words field: its tokens at their positions
    /// (search-mode sub-words share their word's position, as when indexed).
    fn phrase(&self, text: &str) -> Result<Option<Box<dyn Query>>, SearchError> {
        let field = self.fields.text;
        let mut analyzer = self.index.tokenizer_for_field(field)?;
        let mut stream = analyzer.token_stream(text);
        let mut terms: Vec<(usize, Term)> = Vec::new();
        while stream.advance() && terms.len() < MAX_TERMS_PER_FIELD {
            let t = stream.token();
            terms.push((t.position, Term::from_field_text(field, &t.text)));
        }
        let first = terms.first().map_or(0, |(p, _)| *p);
        let positions: HashSet<usize> = terms.iter().map(|(p, _)| *p).collect();
        Ok(match terms.len() {
            0 => None,
            _ if positions.len() == 1 => {
                let clauses: Vec<(Occur, Box<dyn Query>)> = terms
                    .into_iter()
                    .map(|(_, t)| (Occur::Should, Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs)) as _))
                    .collect();
                Some(Box::new(BooleanQuery::new(clauses)))
            }
            _ => Some(Box::new(PhraseQuery::new_with_offset(terms.into_iter().map(|(p, t)| (p - first, t)).collect()))),
        })
    }

    /// The query for what a person typed. Empty text browses everything; text
    /// that analyses to nothing (only punctuation) matches nothing.
    pub fn user_query(&self, q: &str) -> Result<Box<dyn Query>, SearchError> {
        if q.trim().is_empty() {
            return Ok(Box::new(AllQuery));
        }
        let parsed = parse(q);
        let mut clauses = self.bag(&parsed.text)?;
        let mut positive = !clauses.is_empty();
        for p in &parsed.phrases {
            match self.phrase(p)? {
                Some(q) => clauses.push((Occur::Must, q)),
                // A phrase of nothing analysable cannot match.
                None => return Ok(Box::new(EmptyQuery)),
            }
            positive = true;
        }
        for r in &parsed.required {
            match self.any_of(r)? {
                Some(q) => clauses.push((Occur::Must, q)),
                None => return Ok(Box::new(EmptyQuery)),
            }
            positive = true;
        }
        for ex in &parsed.excluded {
            let q = match ex {
                Item::Word(w) => self.any_of(w)?,
                Item::Phrase(p) => self.phrase(p)?,
            };
            if let Some(q) = q {
                clauses.push((Occur::MustNot, q));
            }
        }
        if !positive {
            if parsed.excluded.is_empty() {
                return Ok(Box::new(EmptyQuery));
            }
            clauses.push((Occur::Must, Box::new(AllQuery)));
        }
        Ok(Box::new(BooleanQuery::new(clauses)))
    }

    /// A text read as a bag of terms only, never as syntax (a demand's text,
    /// an offer's text for "more like this").
    pub fn text_query(&self, text: &str) -> Result<Box<dyn Query>, SearchError> {
        Ok(self.any_of(text)?.unwrap_or_else(|| Box::new(EmptyQuery)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn text_without_syntax_is_all_free_text() {
        for q in [
            "借了钱可以取消吗",
            "悟空爱白骨精:我早就开始要求",
            "(1)内存有点小。 (2)附赠的鼠标太小",
            "category: x",
            "\"unclosed",
        ] {
            let p = parse(q);
            assert_eq!((p.phrases.len(), p.required.len(), p.excluded.len()), (0, 0, 0), "{q}: {p:?}");
            assert_eq!(p.text, q.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }

    #[test]
    fn syntax_applies_where_it_is_unmistakable() {
        let p = parse("自行车 -儿童 \"山地 车\"");
        assert_eq!(p.text, "自行车");
        assert_eq!(p.phrases, words(&["山地 车"]));
        assert_eq!(p.excluded, [Item::Word("儿童".into())]);
        let p = parse("\"mountain bike\" AND -kids");
        assert_eq!((p.phrases, p.excluded), (words(&["mountain bike"]), vec![Item::Word("kids".into())]));
        let p = parse("bike AND lock OR pump NOT rusty -\"flat tyre\"");
        assert_eq!(p.required, words(&["bike", "lock"]));
        assert_eq!(p.text, "pump");
        assert_eq!(p.excluded, [Item::Word("rusty".into()), Item::Phrase("flat tyre".into())]);
        // Operators without operands, and a minus before a number, are text.
        assert_eq!(parse("AND").text, "AND");
        assert_eq!(parse("NOT").text, "NOT");
        assert_eq!(parse("-5 元").text, "-5 元");
        assert_eq!(parse("-").text, "-");
    }
}
