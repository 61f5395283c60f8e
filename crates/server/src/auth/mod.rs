//! Who is calling, and whether they may: every request's API key is checked
//! against the store, and each route's roles are read from the OpenAPI
//! document the router is built with, so the roles a client reads in
//! `/openapi.json` are the roles the server enforces. Party checks (a user
//! acts for its own demands, a provider for its own offers) need the stored
//! row, so handlers make them through [`Caller`]; what other parties may read
//! of a row is cut down in `privacy.rs`.

mod caller;
mod gate;
mod keyring;
pub mod policy;
pub mod privacy;

pub use caller::Caller;
pub use gate::{Gate, authenticate};
pub use policy::{Allowed, Policy};

/// How a server admits requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    /// Every request but the probes and the document needs a valid key.
    #[default]
    Keys,
    /// Local development: a request without a key acts as an admin. Only on
    /// loopback addresses (`Application` refuses others).
    Open,
}
