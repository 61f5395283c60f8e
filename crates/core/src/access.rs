//! Who may call the API: the roles of API keys and the key records the store
//! keeps. The secret itself never appears here, only its hash (see
//! `wantloop_store::keys`).

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::values::PartyId;

/// What a key may do. `user` and `provider` keys act for one party; `service`
/// keys (other systems of the marketplace) act for any party but run nothing
/// operational; `admin` keys may do everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Service,
    Provider,
    User,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Service, Role::Provider, Role::User];

    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        match raw.trim() {
            "admin" => Ok(Self::Admin),
            "service" => Ok(Self::Service),
            "provider" => Ok(Self::Provider),
            "user" => Ok(Self::User),
            _ => Err(ValidationError::one(field, "must be admin, service, provider or user")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Service => "service",
            Self::Provider => "provider",
            Self::User => "user",
        }
    }

    /// Keys of this role act for one party and must name it.
    pub fn needs_party(self) -> bool {
        matches!(self, Self::Provider | Self::User)
    }
}

/// A key as stored and listed: everything but its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKey {
    pub id: i64,
    pub role: Role,
    /// The party a user or provider key acts for.
    pub party: Option<String>,
    pub name: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// A key to create, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct NewKey {
    pub role: Role,
    pub party: Option<PartyId>,
    pub name: String,
}

/// A key to create, as submitted.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct KeyInput {
    /// admin, service, provider or user.
    pub role: String,
    /// The party a user or provider key acts for (required for them, refused for the others).
    pub party: Option<String>,
    /// A label for people (who holds the key, what for); at most 200 characters.
    pub name: Option<String>,
}

impl KeyInput {
    pub fn parse(&self) -> Result<NewKey, ValidationError> {
        let role = Role::parse("role", &self.role)?;
        let party = match (&self.party, role.needs_party()) {
            (Some(p), true) => Some(PartyId::parse("party", p)?),
            (None, true) => return Err(ValidationError::one("party", "is required for user and provider keys")),
            (Some(_), false) => {
                return Err(ValidationError::one("party", "is only for user and provider keys"));
            }
            (None, false) => None,
        };
        let name = self.name.as_deref().unwrap_or("").trim().to_string();
        if name.chars().count() > 200 || name.chars().any(char::is_control) {
            return Err(ValidationError::one("name", "must be at most 200 characters without control characters"));
        }
        Ok(NewKey { role, party, name })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(role: &str, party: Option<&str>) -> KeyInput {
        KeyInput { role: role.into(), party: party.map(Into::into), name: None }
    }

    #[test]
    fn party_keys_need_a_party_and_the_others_refuse_one() {
        assert!(input("user", Some("alice")).parse().is_ok());
        assert_eq!(input("user", None).parse().unwrap_err().0[0].field, "party");
        assert_eq!(input("provider", Some("  ")).parse().unwrap_err().0[0].field, "party");
        assert!(input("admin", None).parse().is_ok());
        assert_eq!(input("service", Some("x")).parse().unwrap_err().0[0].field, "party");
        assert_eq!(input("root", None).parse().unwrap_err().0[0].field, "role");
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse("role", r.as_str()).unwrap(), r);
        }
    }
}
