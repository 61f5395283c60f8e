//! The middleware every routed request passes: finds the route's roles,
//! checks the key in `Authorization: Bearer …`, answers 401 (no valid key) or
//! 403 (a role the route does not admit) before any handler runs, and runs
//! the handler as the key's actor (see `wantloop_store::actor`).

use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use wantloop_store::Store;

use super::keyring::Keyring;
use super::{Access, Allowed, Caller, Policy};
use crate::problem::ApiError;

pub struct Gate {
    policy: Policy,
    keyring: Keyring,
    access: Access,
}

impl Gate {
    pub fn new(doc: &serde_json::Value, store: Arc<dyn Store>, access: Access) -> Self {
        Self { policy: Policy::from_document(doc), keyring: Keyring::new(store), access }
    }

    /// Forgets a revoked key at once on this node.
    pub fn forget(&self, key: i64) {
        self.keyring.forget(key);
    }

    async fn caller(&self, authorization: Option<HeaderValue>) -> Result<Caller, ApiError> {
        let Some(value) = authorization else {
            return match self.access {
                Access::Open => Ok(Caller::open()),
                Access::Keys => {
                    Err(ApiError::Unauthorized("this route needs an API key: Authorization: Bearer wlk_…".into()))
                }
            };
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim())
            .ok_or_else(|| ApiError::Unauthorized("the Authorization header must read `Bearer <key>`".into()))?;
        let key = self.keyring.check(token).await?;
        let key = key
            .ok_or_else(|| ApiError::Unauthorized("the API key is not valid (unknown, revoked or mistyped)".into()))?;
        Ok(Caller { key: Some(key.id), role: key.role, party: key.party })
    }
}

pub async fn authenticate(State(gate): State<Arc<Gate>>, mut req: Request, next: Next) -> Response {
    let path = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_default();
    let allowed = gate.policy.get(req.method().as_str(), &path);
    if allowed == Allowed::Anyone {
        return next.run(req).await;
    }
    // The header is taken out first: a borrowed request cannot be held across
    // the key lookup (its body is not `Sync`).
    let authorization = req.headers().get(header::AUTHORIZATION).cloned();
    let caller = match gate.caller(authorization).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    if !allowed.admits(caller.role) {
        let e = ApiError::Forbidden(format!("a {} key may not call {} {path}", caller.role.as_str(), req.method()));
        return e.into_response();
    }
    let actor = caller.key;
    req.extensions_mut().insert(caller);
    wantloop_store::actor::acting_as(actor, next.run(req)).await
}
