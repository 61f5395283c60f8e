//! The flat record format of `import` and `export`, the same for CSV (a header
//! row with these column names) and JSONL (one object per line with these keys).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wantloop_core::demand::{DemandInput, LocationInput};
use wantloop_core::{Demand, Offer, OfferInput, ValidationError};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemandRecord {
    pub requester: String,
    pub text: String,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub budget: Option<i64>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
    #[serde(default)]
    pub max_distance_km: Option<f64>,
    #[serde(default)]
    pub quantity: Option<i64>,
    #[serde(default)]
    pub expires_in_hours: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferRecord {
    pub provider: String,
    pub text: String,
    pub category: String,
    pub price: i64,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
    #[serde(default)]
    pub capacity: Option<i64>,
    #[serde(default)]
    pub condition: Option<String>,
}

fn location(lat: Option<f64>, lon: Option<f64>) -> Result<Option<LocationInput>, ValidationError> {
    match (lat, lon) {
        (Some(lat), Some(lon)) => Ok(Some(LocationInput { lat, lon })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(ValidationError::one("lon", "is needed with lat")),
        (None, Some(_)) => Err(ValidationError::one("lat", "is needed with lon")),
    }
}

impl DemandRecord {
    pub fn to_input(&self) -> Result<DemandInput, ValidationError> {
        Ok(DemandInput {
            requester: self.requester.clone(),
            text: self.text.clone(),
            category: self.category.clone().filter(|c| !c.is_empty()),
            priority: self.priority.clone().filter(|p| !p.is_empty()),
            budget: self.budget,
            location: location(self.lat, self.lon)?,
            max_distance_km: self.max_distance_km,
            quantity: self.quantity,
            expires_in_hours: self.expires_in_hours,
        })
    }

    pub fn from_demand(d: &Demand, now: i64) -> Self {
        Self {
            requester: d.requester.clone(),
            text: d.text.clone(),
            category: Some(d.category.clone()),
            priority: Some(d.priority.as_str().to_string()),
            budget: d.budget,
            lat: d.location.map(|l| l.lat),
            lon: d.location.map(|l| l.lon),
            max_distance_km: d.max_distance_km,
            quantity: Some(d.quantity),
            expires_in_hours: d.expires_at.map(|t| ((t - now) as f64 / wantloop_core::time::HOUR_MS as f64).max(0.001)),
        }
    }
}

impl OfferRecord {
    pub fn to_input(&self) -> Result<OfferInput, ValidationError> {
        Ok(OfferInput {
            provider: self.provider.clone(),
            text: self.text.clone(),
            category: self.category.clone(),
            price: self.price,
            location: location(self.lat, self.lon)?,
            capacity: self.capacity,
            condition: self.condition.clone().filter(|c| !c.is_empty()),
        })
    }

    pub fn from_offer(o: &Offer) -> Self {
        Self {
            provider: o.provider.clone(),
            text: o.text.clone(),
            category: o.category.clone(),
            price: o.price,
            lat: o.location.map(|l| l.lat),
            lon: o.location.map(|l| l.lon),
            capacity: Some(o.capacity),
            condition: o.condition.clone(),
        }
    }
}

/// File formats, chosen by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    pub fn from_path(path: &std::path::Path) -> anyhow::Result<Self> {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("csv") => Ok(Self::Csv),
            Some("jsonl" | "ndjson") => Ok(Self::Jsonl),
            _ => anyhow::bail!("{}: unknown format; use a .csv or .jsonl file", path.display()),
        }
    }
}

/// Which records a command reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    Demands,
    Offers,
}

/// One parsed row, or why it could not be read, with its line number.
pub type Row<T> = (u64, Result<T, String>);

/// Parses a file's bytes into rows: every record becomes a row (a bad one
/// with its reason), so an import can keep the good ones. Fails only when a
/// CSV file has no readable header row.
pub fn parse_rows<T: DeserializeOwned>(bytes: &[u8], format: Format) -> anyhow::Result<Vec<Row<T>>> {
    let mut rows = Vec::new();
    match format {
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
            reader.headers().map_err(|e| anyhow::anyhow!("cannot read the header row: {e}"))?;
            for (i, record) in reader.deserialize::<T>().enumerate() {
                match record {
                    Ok(r) => rows.push((i as u64 + 2, Ok(r))),
                    Err(e) => {
                        let line = e.position().map_or(i as u64 + 2, |p| p.line());
                        rows.push((line, Err(e.to_string())));
                    }
                }
            }
        }
        Format::Jsonl => {
            for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let parsed = serde_json::from_slice::<T>(line).map_err(|e| format!("invalid JSON: {e}"));
                rows.push((i as u64 + 1, parsed));
            }
        }
    }
    Ok(rows)
}
