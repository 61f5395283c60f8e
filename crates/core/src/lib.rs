//! Domain types of wantloop: demands, offers, matches, events, and the validated
//! newtypes that keep invalid values out of the rest of the system.
//!
//! Architecture invariant: this crate does no I/O and knows nothing of HTTP or SQL.
//! Everything that crosses the edge is parsed here (`*Input::parse`) into a type
//! that cannot hold an invalid value.

pub mod access;
pub mod demand;
pub mod error;
pub mod event;
pub mod geo;
pub mod interaction;
pub mod matching;
pub mod offer;
pub mod time;
pub mod values;

pub use access::{ApiKey, KeyInput, NewKey, Role};
pub use demand::{Demand, DemandInput, DemandStatus, NewDemand, Priority};
pub use error::{FieldError, ValidationError};
pub use event::Event;
pub use geo::GeoPoint;
pub use interaction::{Interaction, InteractionInput, InteractionKind, NewInteraction};
pub use matching::{Explanation, FeatureScores, FeatureValues, Match, MatchStatus, MatchTransition};
pub use offer::{NewOffer, Offer, OfferInput, OfferStatus};
pub use values::{Category, Money, PartyId, Quantity, Text};
