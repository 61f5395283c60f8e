//! Long work (batch allocation, retraining) as jobs. The work runs in its own
//! task, so a client that disconnects or times out does not cancel it half
//! way; its record lives in the store, so any node answers `GET /v1/jobs/{id}`
//! and an `Idempotency-Key` names the job it started. A request waits for the
//! result up to the request timeout and then answers `202 Accepted` with the
//! job's `Location`; `Prefer: respond-async` asks for the 202 at once.

use std::future::Future;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::sync::oneshot;
use wantloop_store::{IdemKey, Job, JobStatus, Outcome};

use crate::AppState;
use crate::problem::{ApiError, problem_response};

/// How often a request waiting on a job started by another request checks it.
const POLL: Duration = Duration::from_millis(100);

/// Whether the client asked for an asynchronous answer (RFC 7240).
pub fn prefers_async(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("respond-async"))
}

/// Starts `work` as a job of `kind` (or finds the job `key` started) and
/// answers with its result, or 202 when it is still running.
pub async fn run<T, F>(
    s: &AppState,
    kind: &str,
    key: Option<IdemKey>,
    respond_async: bool,
    work: F,
) -> Result<Response, ApiError>
where
    T: Serialize + Send + 'static,
    F: Future<Output = Result<T, ApiError>> + Send + 'static,
{
    // A node runs a bounded number of jobs; each holds its permit to the end.
    // A repeat of a key needs no permit: it only reads the job it names.
    let permit = s.jobs.clone().try_acquire_owned().ok();
    if permit.is_none() && key.is_none() {
        return Err(ApiError::Overloaded);
    }
    let store = s.engine.store().clone();
    let (job, done, replayed) = match store.create_job(kind, key.as_ref()).await? {
        Outcome::Done(job) => {
            let Some(permit) = permit else {
                // The key was new but the node is full: the job ends at once.
                let problem = serde_json::to_value(ApiError::Overloaded.to_problem().1).unwrap_or_default();
                store.finish_job(job.id, Err(&problem)).await?;
                return Err(ApiError::Overloaded);
            };
            let (tx, rx) = oneshot::channel();
            let id = job.id;
            // The job's writes act for the key that started it.
            let actor = wantloop_store::actor::current();
            tokio::spawn(async move {
                let outcome = match wantloop_store::actor::acting_as(actor, work).await {
                    Ok(v) => serde_json::to_value(v).map_err(|_| ApiError::Internal),
                    Err(e) => Err(e),
                };
                let recorded = match outcome {
                    Ok(v) => store.finish_job(id, Ok(&v)).await,
                    Err(e) => {
                        let problem = serde_json::to_value(e.to_problem().1).unwrap_or_default();
                        store.finish_job(id, Err(&problem)).await
                    }
                };
                match recorded {
                    Ok(job) => {
                        let _ = tx.send(job);
                    }
                    Err(e) => tracing::error!(job = id, error = %e, "cannot record how a job ended"),
                }
                drop(permit);
            });
            (job, Some(rx), false)
        }
        Outcome::Replayed(stored) => {
            drop(permit);
            let first: Job = serde_json::from_str(&stored.body).map_err(|_| ApiError::Internal)?;
            (s.engine.store().get_job(first.id).await?, None, true)
        }
    };
    if respond_async || job.status != JobStatus::Running {
        return Ok(answer(job, replayed));
    }
    let waited = tokio::time::timeout(s.job_wait, async {
        match done {
            Some(rx) => rx.await.ok(),
            None => loop {
                tokio::time::sleep(POLL).await;
                match s.engine.store().get_job(job.id).await {
                    Ok(j) if j.status != JobStatus::Running => break Some(j),
                    Ok(_) => {}
                    Err(_) => break None,
                }
            },
        }
    })
    .await;
    Ok(match waited {
        Ok(Some(finished)) => answer(finished, replayed),
        _ => answer(s.engine.store().get_job(job.id).await?, replayed),
    })
}

/// A finished job answers with its result (or its problem); a running one
/// with 202 and where to poll.
pub fn answer(job: Job, replayed: bool) -> Response {
    let location = HeaderValue::from_str(&format!("/v1/jobs/{}", job.id)).ok();
    let mut resp = match (&job.status, &job.result, &job.error) {
        (JobStatus::Succeeded, Some(result), _) => (StatusCode::OK, axum::Json(result.clone())).into_response(),
        (JobStatus::Failed, _, Some(problem)) => {
            let status = problem["status"]
                .as_u64()
                .and_then(|s| StatusCode::from_u16(s as u16).ok())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            problem_response(status, serde_json::to_vec(problem).unwrap_or_default())
        }
        _ => {
            let mut r = (StatusCode::ACCEPTED, axum::Json(&job)).into_response();
            if let Some(l) = &location {
                r.headers_mut().insert(header::LOCATION, l.clone());
            }
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(1));
            r
        }
    };
    if let Some(l) = location {
        resp.headers_mut().insert(header::CONTENT_LOCATION, l);
    }
    if replayed {
        resp.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}
