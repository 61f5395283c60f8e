//! The caller of a request, as the gate admitted it, and the party checks
//! handlers make with it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use wantloop_core::Role;

use crate::problem::ApiError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The key's id; none on an open server called without a key.
    pub key: Option<i64>,
    pub role: Role,
    /// The party a user or provider key acts for.
    pub party: Option<String>,
}

impl Caller {
    /// A request without a key on an open server (`serve --open`).
    pub fn open() -> Self {
        Self { key: None, role: Role::Admin, party: None }
    }

    /// Admin and service keys act for every party.
    pub fn acts_for_all(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Service)
    }

    pub fn acts_for(&self, party: &str) -> bool {
        self.acts_for_all() || self.party.as_deref() == Some(party)
    }

    /// 403 unless the caller acts for `party`.
    pub fn require(&self, party: &str) -> Result<(), ApiError> {
        if self.acts_for(party) {
            return Ok(());
        }
        Err(ApiError::Forbidden(format!(
            "this {} key acts for {:?}, not for {party:?}",
            self.role.as_str(),
            self.party.as_deref().unwrap_or("")
        )))
    }

    /// 403 unless the caller is on its side of a match: a user key as its
    /// requester, a provider key as its provider. (Which of them may take a
    /// step is the route's roles: only a requester accepts.)
    pub fn require_side(&self, requester: &str, provider: &str) -> Result<(), ApiError> {
        match self.role {
            Role::Admin | Role::Service => Ok(()),
            Role::User => self.require(requester),
            Role::Provider => self.require(provider),
        }
    }

    /// Whether the caller is in a match, on either side (to read it).
    pub fn in_match(&self, requester: &str, provider: &str) -> Result<(), ApiError> {
        if self.acts_for(requester) || self.acts_for(provider) {
            return Ok(());
        }
        Err(ApiError::Forbidden("this key's party is not in this match".into()))
    }

    /// The party whose rows a listing is cut to; none for admin and service keys.
    pub fn scope(&self) -> Option<String> {
        if self.acts_for_all() { None } else { self.party.clone() }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // The gate puts the caller on every request of a keyed route; a route
        // open to anyone has no caller, and its handler cannot ask for one.
        parts.extensions.get::<Caller>().cloned().ok_or(ApiError::Internal)
    }
}
