//! The assistant's FAQ and the questions it could not answer. An import or
//! deletion writes one `faq.changed` event; each node's assistant compares
//! the newest such event with the one its FAQ index was built at and
//! reloads (the FAQ is thousands of rows at most), so every node answers
//! from the same entries.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, AssertSqlSafe, Row};

use super::{WriteTx, outbox};
use crate::error::StoreError;
use crate::model::{AskedQuestion, FaqEntry, NewAskedQuestion, NewFaqEntry, PhrasingRule, ResolvedQuestion, Triple};

const ENTRY_COLS: &str = "id, entry_key, lang, questions, answer, updated_at";
const ASKED_COLS: &str = "id, question, lang, outcome, confidence, best_entry, chosen_entry, resolved_at, created_at";

fn entry(row: &AnyRow) -> Result<FaqEntry, StoreError> {
    let questions: String = row.try_get("questions")?;
    Ok(FaqEntry {
        id: row.try_get("id")?,
        key: row.try_get("entry_key")?,
        lang: row.try_get("lang")?,
        questions: serde_json::from_str(&questions)
            .map_err(|e| StoreError::Corrupt(format!("faq entry questions: {e}")))?,
        answer: row.try_get("answer")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn asked(row: &AnyRow) -> Result<AskedQuestion, StoreError> {
    Ok(AskedQuestion {
        id: row.try_get("id")?,
        question: row.try_get("question")?,
        lang: row.try_get("lang")?,
        outcome: row.try_get("outcome")?,
        confidence: row.try_get("confidence")?,
        best_entry: row.try_get("best_entry")?,
        chosen_entry: row.try_get("chosen_entry")?,
        resolved_at: row.try_get("resolved_at")?,
        created_at: row.try_get("created_at")?,
    })
}

#[derive(serde::Serialize)]
struct Changed {
    saved: usize,
    deleted: usize,
}

/// Inserts or replaces (by key and language) every entry, with one event.
pub(crate) async fn upsert(w: &mut WriteTx, entries: &[NewFaqEntry]) -> Result<Vec<FaqEntry>, StoreError> {
    let mut saved = Vec::with_capacity(entries.len());
    for e in entries {
        let questions = serde_json::to_string(&e.questions).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sql = format!(
            "INSERT INTO faq_entries (entry_key, lang, questions, answer, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (entry_key, lang) DO UPDATE SET questions = excluded.questions, answer = excluded.answer, \
             updated_at = excluded.updated_at RETURNING {ENTRY_COLS}"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(&e.key)
            .bind(&e.lang)
            .bind(questions)
            .bind(&e.answer)
            .bind(w.now)
            .fetch_one(&mut *w.tx)
            .await?;
        saved.push(entry(&row)?);
    }
    let last = saved.iter().map(|e| e.id).max().unwrap_or(0);
    outbox::emit(w, "faq.changed", "faq", last, &Changed { saved: saved.len(), deleted: 0 }).await?;
    Ok(saved)
}

pub(crate) async fn delete(w: &mut WriteTx, id: i64) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM faq_entries WHERE id = $1").bind(id).execute(&mut *w.tx).await?;
    let gone = done.rows_affected() > 0;
    if gone {
        outbox::emit(w, "faq.changed", "faq", id, &Changed { saved: 0, deleted: 1 }).await?;
    }
    Ok(gone)
}

/// Entries by id, at most `limit` after `after`.
pub(crate) async fn list(pool: &AnyPool, after: i64, limit: u32) -> Result<Vec<FaqEntry>, StoreError> {
    let sql = format!("SELECT {ENTRY_COLS} FROM faq_entries WHERE id > $1 ORDER BY id LIMIT $2");
    let rows = sqlx::query(AssertSqlSafe(sql)).bind(after).bind(i64::from(limit)).fetch_all(pool).await?;
    rows.iter().map(entry).collect()
}

pub(crate) async fn get(pool: &AnyPool, id: i64) -> Result<Option<FaqEntry>, StoreError> {
    let sql = format!("SELECT {ENTRY_COLS} FROM faq_entries WHERE id = $1");
    let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?;
    row.as_ref().map(entry).transpose()
}

pub(crate) async fn log(w: &mut WriteTx, q: &NewAskedQuestion) -> Result<AskedQuestion, StoreError> {
    let sql = format!(
        "INSERT INTO asked_questions (question, lang, outcome, confidence, best_entry, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {ASKED_COLS}"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(&q.question)
        .bind(&q.lang)
        .bind(&q.outcome)
        .bind(q.confidence)
        .bind(q.best_entry)
        .bind(w.now)
        .fetch_one(&mut *w.tx)
        .await?;
    asked(&row)
}

/// Logged questions by id after `after`, at most `limit`: the open ones
/// (no operator answer yet) or the resolved ones.
pub(crate) async fn asked_list(
    pool: &AnyPool,
    resolved: bool,
    after: i64,
    limit: u32,
) -> Result<Vec<AskedQuestion>, StoreError> {
    let filter = if resolved { "resolved_at IS NOT NULL" } else { "resolved_at IS NULL" };
    let sql = format!("SELECT {ASKED_COLS} FROM asked_questions WHERE {filter} AND id > $1 ORDER BY id LIMIT $2");
    let rows = sqlx::query(AssertSqlSafe(sql)).bind(after).bind(i64::from(limit)).fetch_all(pool).await?;
    rows.iter().map(asked).collect()
}

pub(crate) async fn count_answered(pool: &AnyPool) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM asked_questions WHERE resolved_at IS NOT NULL")
        .fetch_one(pool)
        .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Records the operator's answer to a logged question (an entry, or none)
/// and, under `add`, makes the question a phrasing of the chosen entry. A
/// corrected answer (another entry than before, or none) first takes the
/// question out of the earlier entry's phrasings, so one question never
/// stands for two answers.
pub(crate) async fn resolve(
    w: &mut WriteTx,
    id: i64,
    entry: Option<i64>,
    add: Option<PhrasingRule>,
) -> Result<Option<ResolvedQuestion>, StoreError> {
    // Lock the row first (a no-op update: both dialects), so two corrections
    // at once read the earlier answer one after the other.
    sqlx::query("UPDATE asked_questions SET chosen_entry = chosen_entry WHERE id = $1")
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
    let earlier: Option<Option<i64>> = sqlx::query("SELECT chosen_entry FROM asked_questions WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *w.tx)
        .await?
        .map(|row| row.try_get("chosen_entry"))
        .transpose()?;
    let Some(earlier) = earlier else { return Ok(None) };
    let sql =
        format!("UPDATE asked_questions SET chosen_entry = $1, resolved_at = $2 WHERE id = $3 RETURNING {ASKED_COLS}");
    let row = sqlx::query(AssertSqlSafe(sql)).bind(entry).bind(w.now).bind(id).fetch_optional(&mut *w.tx).await?;
    let Some(question) = row.as_ref().map(asked).transpose()? else { return Ok(None) };
    let text = question.question.trim().to_string();
    if let Some(old) = earlier.filter(|old| Some(*old) != entry) {
        edit_phrasings(w, old, |_, questions| {
            let kept: Vec<String> = questions.iter().filter(|q| **q != text).cloned().collect();
            (kept.len() < questions.len() && !kept.is_empty()).then_some(kept)
        })
        .await?;
    }
    let phrasing_added = match (add, entry) {
        (Some(rule), Some(entry)) => {
            edit_phrasings(w, entry, |lang, questions| {
                let fits = lang == question.lang
                    && !text.is_empty()
                    && text.chars().count() <= rule.max_chars
                    && questions.len() < rule.max_phrasings
                    && !questions.contains(&text);
                fits.then(|| questions.iter().cloned().chain([text.clone()]).collect())
            })
            .await?
        }
        _ => false,
    };
    Ok(Some(ResolvedQuestion { question, phrasing_added }))
}

/// Replaces an entry's phrasings with what `edit` makes of them (`None`:
/// leave them), by compare-and-set on the stored list, with a `faq.changed`
/// event; true when changed. Two operators' answers at once both land: on
/// PostgreSQL the second UPDATE waits for the first, then matches no row,
/// and is tried again on the list as it now is (SQLite runs one writer at a
/// time). Hand-written rather than a JSON-array update in SQL: the two
/// dialects spell that differently, and the checks need the list anyway.
async fn edit_phrasings(
    w: &mut WriteTx,
    entry: i64,
    edit: impl Fn(&str, &[String]) -> Option<Vec<String>>,
) -> Result<bool, StoreError> {
    for _ in 0..5 {
        let sql = "SELECT lang, questions FROM faq_entries WHERE id = $1";
        let Some(row) = sqlx::query(sql).bind(entry).fetch_optional(&mut *w.tx).await? else { return Ok(false) };
        let (lang, stored): (String, String) = (row.try_get("lang")?, row.try_get("questions")?);
        let questions: Vec<String> =
            serde_json::from_str(&stored).map_err(|e| StoreError::Corrupt(format!("faq entry questions: {e}")))?;
        let Some(edited) = edit(&lang, &questions) else { return Ok(false) };
        let edited = serde_json::to_string(&edited).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let done =
            sqlx::query("UPDATE faq_entries SET questions = $1, updated_at = $2 WHERE id = $3 AND questions = $4")
                .bind(edited)
                .bind(w.now)
                .bind(entry)
                .bind(stored)
                .execute(&mut *w.tx)
                .await?;
        if done.rows_affected() == 1 {
            outbox::emit(w, "faq.changed", "faq", entry, &Changed { saved: 1, deleted: 0 }).await?;
            return Ok(true);
        }
    }
    // The entry kept changing under us: the answer stands, the phrasings as
    // they are (the reply's `phrasing_added` says so).
    Ok(false)
}

/// Stores triples not stored yet, with one `triples.changed` event; returns how many were new.
pub(crate) async fn save_triples(w: &mut WriteTx, triples: &[Triple]) -> Result<usize, StoreError> {
    let mut added = 0;
    for t in triples {
        let done = sqlx::query(
            "INSERT INTO graph_triples (subject, relation, object, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (subject, relation, object) DO NOTHING",
        )
        .bind(&t.subject)
        .bind(&t.relation)
        .bind(&t.object)
        .bind(w.now)
        .execute(&mut *w.tx)
        .await?;
        added += done.rows_affected() as usize;
    }
    if added > 0 {
        outbox::emit(w, "triples.changed", "triples", added as i64, &Changed { saved: added, deleted: 0 }).await?;
    }
    Ok(added)
}

/// Triples by id, at most `limit`.
pub(crate) async fn triples(pool: &AnyPool, limit: u32) -> Result<Vec<Triple>, StoreError> {
    let rows = sqlx::query("SELECT subject, relation, object FROM graph_triples ORDER BY id LIMIT $1")
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Triple {
                subject: r.try_get("subject")?,
                relation: r.try_get("relation")?,
                object: r.try_get("object")?,
            })
        })
        .collect()
}
