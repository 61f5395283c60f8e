//! Completes the OpenAPI document with the answers no handler writes itself:
//! the admission middleware's (414, 429, 431, 503), the panic guard's (500),
//! the extractors' (400 for a malformed query, path or header; 413, 415 and
//! 422 for bodies; 404 for an unknown id), each as `application/problem+json`.
//! Done once over the whole document, by rule, so a new route cannot forget
//! one; a handler's own description of a status is kept.

use serde_json::{Value, json};

/// Statuses every operation can answer, and why.
const EVERYWHERE: [(&str, &str); 4] = [
    ("414", "The request target is longer than the server's limit"),
    ("431", "The request headers are larger than the server's limit"),
    ("500", "An unexpected failure (logged)"),
    ("503", "Overloaded, timed out or not ready: retry after `Retry-After` seconds"),
];

const PROBLEM_REF: &str = "#/components/schemas/Problem";

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/problem+json": { "schema": { "$ref": PROBLEM_REF } } },
    })
}

/// Whether a response's body is the Problem schema.
fn is_problem(response: &Value) -> bool {
    response["content"]
        .as_object()
        .is_some_and(|c| c.values().any(|m| m["schema"]["$ref"].as_str() == Some(PROBLEM_REF)))
}

fn add(responses: &mut serde_json::Map<String, Value>, status: &str, description: &str) {
    responses.entry(status.to_string()).or_insert_with(|| problem_response(description));
}

/// Whether an operation needs a key (its security is not `[{}]`).
fn needs_key(op: &Value) -> bool {
    !op["security"].as_array().is_some_and(|r| r.iter().any(|r| r.as_object().is_some_and(serde_json::Map::is_empty)))
}

/// Applies the rules above to every operation of `doc`, and declares the
/// API-key scheme whose roles each operation lists (see `auth/policy.rs`).
pub fn complete(doc: &mut Value) {
    doc["components"]["securitySchemes"][crate::auth::policy::SCHEME] = json!({
        "type": "http",
        "scheme": "bearer",
        "description": "An API key from `wantloop keys create` (`wlk_…`). Each operation's security \
            requirement lists the roles that may call it; user and provider keys act for their own party only.",
    });
    let Some(paths) = doc["paths"].as_object_mut() else { return };
    for (path, item) in paths.iter_mut() {
        let probe = path == "/healthz" || path == "/readyz";
        let Some(item) = item.as_object_mut() else { continue };
        for (method, op) in item.iter_mut() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            // Ids in paths are positive integers (the extractor refuses others).
            if let Some(ps) = op.get_mut("parameters").and_then(Value::as_array_mut) {
                for p in ps.iter_mut().filter(|p| p["in"] == "path" && p["schema"]["type"] == "integer") {
                    p["schema"]["minimum"] = json!(1);
                }
            }
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let has_body = op.get("requestBody").is_some();
            let has_path_id = params.iter().any(|p| p["in"] == "path");
            let keyed = needs_key(op);
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else { continue };
            // A handler's problem bodies are problem+json, whatever it wrote.
            for response in responses.values_mut() {
                if is_problem(response) {
                    response["content"] = json!({ "application/problem+json": { "schema": { "$ref": PROBLEM_REF } } });
                }
            }
            for (status, why) in EVERYWHERE {
                add(responses, status, why);
            }
            if !probe {
                add(responses, "429", "Too many requests from this client: retry after `Retry-After` seconds");
            }
            if !params.is_empty() || has_body {
                add(responses, "400", "A malformed parameter, header or body (the field is named)");
            }
            if has_path_id {
                add(responses, "404", "No such resource");
            }
            if keyed {
                add(responses, "401", "No valid API key (`Authorization: Bearer wlk_…`)");
                add(responses, "403", "The key's role or party may not do this");
            }
            if has_body {
                add(responses, "408", "The body did not arrive within the body timeout");
                add(responses, "413", "The body is larger than the limit");
                add(responses, "415", "The body is not `application/json`");
                add(responses, "422", "Invalid input, or an Idempotency-Key reused with another request");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_the_middlewares_answers_and_types_problems() {
        let mut doc = json!({"paths": {
            "/v1/x/{id}": {"post": {
                "parameters": [{"in": "path", "name": "id"}],
                "requestBody": {},
                "responses": {
                    "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "409": {"description": "conflict", "content": {"application/json": {"schema": {"$ref": PROBLEM_REF}}}},
                },
            }},
            "/healthz": {"get": {"security": [{}], "responses": {"200": {"description": "ok"}}}},
        }});
        complete(&mut doc);
        let r = &doc["paths"]["/v1/x/{id}"]["post"]["responses"];
        for status in ["400", "401", "403", "404", "408", "413", "414", "415", "422", "429", "431", "500", "503"] {
            assert!(r[status]["content"]["application/problem+json"].is_object(), "{status}: {r}");
        }
        assert!(r["409"]["content"]["application/json"].is_null());
        assert_eq!(r["409"]["description"], "conflict", "a handler's own description is kept");
        assert!(r["200"]["content"]["application/json"].is_object());
        let probe = &doc["paths"]["/healthz"]["get"];
        assert!(probe["responses"]["429"].is_null() && probe["responses"]["400"].is_null());
        assert!(probe["responses"]["401"].is_null(), "a route open to anyone answers no 401");
        assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
        assert!(probe["responses"]["503"].is_object());
        assert!(probe.get("parameters").is_none(), "nothing absent is added as null");
    }
}
