//! Each route's roles, read from the OpenAPI document: an operation's
//! `security` lists the roles of the `bearer` scheme that may call it, or is
//! `[{}]` for routes anyone may call (the probes, the document). An operation
//! that declares nothing is admin-only, so a route added without thought is
//! closed rather than open; a test keeps every route declared.

use std::collections::HashMap;

use serde_json::Value;
use wantloop_core::Role;

/// Who may call one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    Anyone,
    Roles(Vec<Role>),
}

impl Allowed {
    pub fn admits(&self, role: Role) -> bool {
        match self {
            Self::Anyone => true,
            Self::Roles(roles) => roles.contains(&role),
        }
    }
}

/// The operations of a document, by method (lowercase) and path template.
#[derive(Debug, Default)]
pub struct Policy(HashMap<(String, String), Allowed>);

/// Name of the security scheme in the document.
pub const SCHEME: &str = "bearer";

impl Policy {
    pub fn from_document(doc: &Value) -> Self {
        let mut table = HashMap::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                table.insert((method.clone(), path.clone()), allowed(op));
            }
        }
        Self(table)
    }

    /// Who may call `method` on the route template `path`. HEAD is answered
    /// by the GET handler, so it has GET's roles.
    pub fn get(&self, method: &str, path: &str) -> Allowed {
        let method = match method.to_ascii_lowercase() {
            m if m == "head" => "get".to_string(),
            m => m,
        };
        self.0.get(&(method, path.to_string())).cloned().unwrap_or(Allowed::Roles(vec![Role::Admin]))
    }
}

/// Reads one operation's `security`.
pub fn allowed(op: &Value) -> Allowed {
    let Some(requirements) = op["security"].as_array() else { return Allowed::Roles(vec![Role::Admin]) };
    if requirements.iter().any(|r| r.as_object().is_some_and(serde_json::Map::is_empty)) {
        return Allowed::Anyone;
    }
    let mut roles: Vec<Role> = requirements
        .iter()
        .filter_map(|r| r[SCHEME].as_array())
        .flatten()
        .filter_map(|r| r.as_str().and_then(|r| Role::parse("role", r).ok()))
        .collect();
    roles.dedup();
    if roles.is_empty() { Allowed::Roles(vec![Role::Admin]) } else { Allowed::Roles(roles) }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_roles_public_routes_and_closes_undeclared_ones() {
        let doc = json!({"paths": {
            "/a": {"get": {"security": [{"bearer": ["user", "admin"]}]}, "post": {}},
            "/healthz": {"get": {"security": [{}]}},
        }});
        let p = Policy::from_document(&doc);
        assert_eq!(p.get("GET", "/a"), Allowed::Roles(vec![Role::User, Role::Admin]));
        assert_eq!(p.get("post", "/a"), Allowed::Roles(vec![Role::Admin]), "undeclared: admin only");
        assert_eq!(p.get("get", "/healthz"), Allowed::Anyone);
        assert_eq!(p.get("HEAD", "/healthz"), Allowed::Anyone, "HEAD has GET's roles");
        assert_eq!(p.get("get", "/unknown"), Allowed::Roles(vec![Role::Admin]));
        assert!(!p.get("get", "/a").admits(Role::Provider));
    }
}
