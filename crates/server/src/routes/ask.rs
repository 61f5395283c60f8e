//! `POST /v1/ask`: the assistant, answering from the FAQ or saying it
//! cannot; and (admin) the FAQ's entries and the questions it kept for the
//! operator, whose answers become training pairs for the paraphrase scorer.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use wantloop_engine::ask::{Answer, Suggestion};
use wantloop_engine::faq::FaqImport;
use wantloop_engine::graph::TripleImport;
use wantloop_store::{AskedQuestion, FaqEntry, NewFaqEntry, ResolvedQuestion, StoreError};

use crate::AppState;
use crate::extract::{ApiQuery, IdPath, JsonBody};
use crate::paging::{Paged, paged, parse_page};
use crate::problem::{ApiError, Problem};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskInput {
    /// At most 500 characters.
    #[schema(example = "提议的匹配多久失效？")]
    pub question: String,
    /// `zh` or `en` (default: detected from the question).
    pub lang: Option<String>,
}

/// Ask the assistant. Below its threshold the answer says it cannot answer
/// ("对不起，我无法回答这个问题。" / "Sorry, I can't answer that."), lists the
/// closest questions, and the question is kept for the operator.
#[utoipa::path(post, path = "/v1/ask", tag = "assistant", security(("bearer" = ["admin", "service", "provider", "user"])),
    request_body = AskInput, responses((status = 200, body = Answer), (status = 422, body = Problem)))]
pub async fn ask(State(s): State<AppState>, body: JsonBody<AskInput>) -> Result<Json<Answer>, ApiError> {
    Ok(Json(s.engine.ask(&body.value.question, body.value.lang.as_deref()).await?))
}

/// The FAQ entries closest to a question (at most 10, best first), with their
/// confidence whatever the threshold; nothing is kept. What the dashboard
/// offers an operator answering a kept question.
#[utoipa::path(post, path = "/v1/faq/closest", tag = "assistant", security(("bearer" = ["admin"])),
    request_body = AskInput, responses((status = 200, body = Vec<Suggestion>), (status = 422, body = Problem)))]
pub async fn closest(State(s): State<AppState>, body: JsonBody<AskInput>) -> Result<Json<Vec<Suggestion>>, ApiError> {
    Ok(Json(s.engine.closest_entries(&body.value.question, body.value.lang.as_deref()).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    limit: Option<String>,
    cursor: Option<String>,
}

/// The FAQ's entries, by id.
#[utoipa::path(get, path = "/v1/faq", tag = "assistant", security(("bearer" = ["admin"])), params(ListQuery),
    responses((status = 200, body = Paged<FaqEntry>), (status = 400, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Paged<FaqEntry>>, ApiError> {
    let page = parse_page(q.limit.as_deref(), q.cursor.as_deref())?;
    let items = s.engine.faq_entries(page.after, page.limit).await?;
    Ok(Json(paged(items, page, |e| e.id)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FaqEntryInput {
    /// Names the entry across languages: letters, digits, `-`, `_`, `.`.
    #[schema(example = "proposal-expiry")]
    pub entry: String,
    /// `zh` or `en`.
    pub lang: String,
    /// 1 to 20 phrasings of the question, each at most 300 characters.
    pub questions: Vec<String>,
    /// At most 4,000 characters.
    pub answer: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FaqInput {
    /// Saved together; each replaces the entry with the same key and language.
    pub entries: Vec<FaqEntryInput>,
}

/// Add or replace entries; one that fails its checks is a 422 naming the
/// field, and nothing is saved.
#[utoipa::path(post, path = "/v1/faq", tag = "assistant", security(("bearer" = ["admin"])), request_body = FaqInput,
    responses((status = 200, body = Vec<FaqEntry>), (status = 422, body = Problem)))]
pub async fn save(State(s): State<AppState>, body: JsonBody<FaqInput>) -> Result<Json<Vec<FaqEntry>>, ApiError> {
    if body.value.entries.len() > 1_000 {
        return Err(ApiError::bad_field("entries", "at most 1,000 entries a request"));
    }
    let entries = body
        .value
        .entries
        .into_iter()
        .map(|e| NewFaqEntry { key: e.entry, lang: e.lang, questions: e.questions, answer: e.answer })
        .collect();
    Ok(Json(s.engine.save_faq_entries(entries).await?))
}

/// One entry.
#[utoipa::path(get, path = "/v1/faq/{id}", tag = "assistant", security(("bearer" = ["admin"])), params(("id" = i64, Path)),
    responses((status = 200, body = FaqEntry), (status = 404, body = Problem)))]
pub async fn get(State(s): State<AppState>, IdPath(id): IdPath) -> Result<Json<FaqEntry>, ApiError> {
    let entry = s.engine.faq_entry(id).await?;
    Ok(Json(entry.ok_or(ApiError::Store(StoreError::NotFound { entity: "faq entry", id }))?))
}

/// Delete an entry.
#[utoipa::path(delete, path = "/v1/faq/{id}", tag = "assistant", security(("bearer" = ["admin"])), params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(State(s): State<AppState>, IdPath(id): IdPath) -> Result<StatusCode, ApiError> {
    match s.engine.delete_faq_entry(id).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::Store(StoreError::NotFound { entity: "faq entry", id })),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportInput {
    /// The file's name: `.csv` reads `entry,lang,question,answer` rows, anything else JSON lines.
    #[schema(example = "faq.jsonl")]
    pub name: String,
    /// The file's text.
    pub text: String,
}

/// Import an FAQ file: good entries are saved, each bad line reported with its number.
#[utoipa::path(post, path = "/v1/faq/import", tag = "assistant", security(("bearer" = ["admin"])), request_body = ImportInput,
    responses((status = 200, body = FaqImport), (status = 422, body = Problem)))]
pub async fn import(State(s): State<AppState>, body: JsonBody<ImportInput>) -> Result<Json<FaqImport>, ApiError> {
    Ok(Json(s.engine.import_faq(&body.value.name, &body.value.text).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AskedQuery {
    /// `true`: the questions an operator answered; default the open ones.
    resolved: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// Questions the assistant refused or was unsure of.
#[utoipa::path(get, path = "/v1/ask/questions", tag = "assistant", security(("bearer" = ["admin"])), params(AskedQuery),
    responses((status = 200, body = Paged<AskedQuestion>), (status = 400, body = Problem)))]
pub async fn questions(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<AskedQuery>,
) -> Result<Json<Paged<AskedQuestion>>, ApiError> {
    let page = parse_page(q.limit.as_deref(), q.cursor.as_deref())?;
    let resolved = match q.resolved.as_deref() {
        None | Some("") | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::bad_field("resolved", "must be true or false")),
    };
    let items = s.engine.asked_questions(resolved, page.after, page.limit).await?;
    Ok(Json(paged(items, page, |q| q.id)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveInput {
    /// The FAQ entry that answers the question, or `null` when none does
    /// (refusing it was right). Required.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, required = true)]
    pub entry: Option<Option<i64>>,
    /// Also make the question one of the entry's phrasings (when in its
    /// language, at most 300 characters, new to it, and the entry has fewer
    /// than 20); a corrected answer moves it from the entry chosen before.
    #[serde(default = "yes")]
    pub add_phrasing: bool,
}

fn yes() -> bool {
    true
}

/// A field given, even as `null` (`Some(None)`), against one left out (`None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

/// The operator's answer to a kept question (an entry, or `null`: none
/// answers it): labelled pairs for the scorer's next training, held-out
/// questions for its activation, and, by default, a new phrasing of the entry.
#[utoipa::path(post, path = "/v1/ask/questions/{id}", tag = "assistant", security(("bearer" = ["admin"])), params(("id" = i64, Path)),
    request_body = ResolveInput, responses((status = 200, body = ResolvedQuestion), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn resolve(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    body: JsonBody<ResolveInput>,
) -> Result<Json<ResolvedQuestion>, ApiError> {
    let Some(entry) = body.value.entry else {
        let why = "required: the id of the FAQ entry that answers it, or null if none does";
        return Err(wantloop_core::ValidationError::one("entry", why).into());
    };
    let resolved = s.engine.resolve_question(id, entry, body.value.add_phrasing).await?;
    Ok(Json(resolved.ok_or(ApiError::Store(StoreError::NotFound { entity: "asked question", id }))?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriplesInput {
    /// CSV `subject,relation,object` lines (a header line of those names is optional).
    #[schema(example = "wantloop,许可证,Apache-2.0")]
    pub text: String,
}

/// Import facts into the assistant's knowledge graph: good lines stored, each bad one reported with its number.
#[utoipa::path(post, path = "/v1/graph/triples", tag = "assistant", security(("bearer" = ["admin"])), request_body = TriplesInput,
    responses((status = 200, body = TripleImport), (status = 422, body = Problem)))]
pub async fn triples(State(s): State<AppState>, body: JsonBody<TriplesInput>) -> Result<Json<TripleImport>, ApiError> {
    Ok(Json(s.engine.import_triples(&body.value.text).await?))
}
