//! Imported facts of the graph: `subject,relation,object` CSV rows (a header
//! line of those names is optional), each bad line reported with its number
//! and the good ones kept; every node reloads them when the store's newest
//! `triples.changed` event is not the one it loaded at.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use wantloop_store::Triple;

use crate::faq_file::LineError;
use crate::{Engine, EngineError};

/// Most triples the graph holds (each node keeps them in memory).
pub const MAX_TRIPLES: usize = 100_000;
const MAX_FIELD_CHARS: usize = 200;

#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TripleImport {
    /// Triples not stored before.
    pub added: usize,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub errors: Vec<LineError>,
}

/// One triple a line (a field may be quoted; a quoted line break is not
/// supported, so line numbers are the file's).
pub fn parse_triples(text: &str) -> (Vec<Triple>, Vec<LineError>) {
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    for (i, raw) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(raw.as_bytes());
        let row = match reader.records().next() {
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                bad.push(LineError { line, reason: e.to_string() });
                continue;
            }
            None => continue,
        };
        let fields: Vec<&str> = row.iter().map(str::trim).collect();
        if line == 1 && fields == ["subject", "relation", "object"] {
            continue;
        }
        let reason = if fields.len() != 3 {
            Some(format!("want subject,relation,object; found {} fields", fields.len()))
        } else if fields.iter().any(|f| f.is_empty()) {
            Some("subject, relation and object must not be empty".to_string())
        } else if fields.iter().any(|f| f.chars().count() > MAX_FIELD_CHARS) {
            Some(format!("a field is longer than {MAX_FIELD_CHARS} characters"))
        } else if fields.iter().any(|f| f.chars().any(char::is_control)) {
            Some("control characters are not allowed".to_string())
        } else {
            None
        };
        match reason {
            Some(reason) => bad.push(LineError { line, reason }),
            None => good.push(Triple {
                subject: fields[0].to_string(),
                relation: fields[1].to_string(),
                object: fields[2].to_string(),
            }),
        }
    }
    (good, bad)
}

/// The triples by their subject, normalised as questions are.
pub struct Facts {
    /// The newest `triples.changed` event when loaded.
    pub(crate) version: i64,
    pub(crate) by_subject: HashMap<String, Vec<Triple>>,
}

impl Facts {
    fn new(version: i64, triples: Vec<Triple>) -> Self {
        let mut by_subject: HashMap<String, Vec<Triple>> = HashMap::new();
        for t in triples {
            by_subject.entry(normalised(&t.subject)).or_default().push(t);
        }
        Self { version, by_subject }
    }

    pub(crate) fn about(&self, subject: &str) -> &[Triple] {
        self.by_subject.get(&normalised(subject)).map_or(&[], Vec::as_slice)
    }
}

/// How subjects and relations are compared: normalised, without spaces.
pub(crate) fn normalised(s: &str) -> String {
    wantloop_text::normalise(s).chars().filter(|c| !c.is_whitespace()).collect()
}

impl Engine {
    /// Imports a triples file: good rows stored, bad lines reported.
    pub async fn import_triples(&self, text: &str) -> Result<TripleImport, EngineError> {
        let (good, errors) = parse_triples(text);
        let stored: HashSet<Triple> = self.store.triples(MAX_TRIPLES as u32 + 1).await?.into_iter().collect();
        let new: HashSet<&Triple> = good.iter().filter(|t| !stored.contains(*t)).collect();
        if stored.len() + new.len() > MAX_TRIPLES {
            return Err(wantloop_core::ValidationError::one(
                "triples",
                format!("the graph would hold more than {MAX_TRIPLES} triples"),
            )
            .into());
        }
        let added = if good.is_empty() { 0 } else { self.store.save_triples(&good).await? };
        Ok(TripleImport { added, errors })
    }

    /// The imported triples as this node last loaded them, reloaded (by one
    /// request at a time) when they changed.
    pub(crate) async fn triples_state(&self) -> Result<Arc<Facts>, EngineError> {
        let version = self.store.last_event_id_of(&["triples.changed"]).await?;
        let current = || self.assistant.triples.read().ok().and_then(|g| g.clone()).filter(|f| f.version == version);
        if let Some(f) = current() {
            return Ok(f);
        }
        let _one_reload = self.assistant.reload_triples.lock().await;
        if let Some(f) = current() {
            return Ok(f);
        }
        let triples = self.store.triples(MAX_TRIPLES as u32).await?;
        let facts = Arc::new(Facts::new(version, triples));
        if let Ok(mut g) = self.assistant.triples.write() {
            *g = Some(facts.clone());
        }
        Ok(facts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_checked_and_numbered() {
        let (good, bad) = parse_triples(
            "subject,relation,object\nwantloop,许可证,Apache-2.0\n\nx,y\n,a,b\nwantloop,license,\"Apache-2.0\"\n",
        );
        assert_eq!(good.len(), 2);
        assert_eq!(good[0].relation, "许可证");
        assert_eq!(bad.iter().map(|e| e.line).collect::<Vec<_>>(), vec![4, 5]);
    }
}
