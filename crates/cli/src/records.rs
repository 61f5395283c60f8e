//! The flat record format of `import` and `export`, the same for CSV (a header
//! row with these column names) and JSONL (one object per line with these keys).

use std::io::{BufRead, Read};

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
            // Import stores demands; matching them is a separate step.
            auto_match: None,
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
    Ok(rows(bytes, format)?.collect())
}

/// A record's error naming its column ("price: cannot parse integer from
/// empty string"), not its position.
fn named(e: &csv::Error, headers: &csv::StringRecord) -> String {
    if let csv::ErrorKind::Deserialize { err, .. } = e.kind()
        && let Some(column) = err.field().and_then(|i| headers.get(i as usize))
    {
        return format!("{column}: {}", err.kind());
    }
    e.to_string()
}

/// The rows of a file as it streams, one record at a time (see [`parse_rows`]).
/// A read error (not a malformed record) becomes one last bad row.
pub fn rows<'r, T: DeserializeOwned + 'r>(
    reader: impl Read + 'r,
    format: Format,
) -> anyhow::Result<Box<dyn Iterator<Item = Row<T>> + 'r>> {
    let mut done = false;
    Ok(match format {
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(reader);
            let headers = reader.headers().map_err(|e| anyhow::anyhow!("cannot read the header row: {e}"))?.clone();
            let mut record = csv::StringRecord::new();
            Box::new(std::iter::from_fn(move || {
                if done {
                    return None;
                }
                match reader.read_record(&mut record) {
                    Ok(false) => None,
                    Ok(true) => {
                        // The line the record starts on, also for quoted fields spanning lines.
                        let at = record.position().map_or(0, |p| p.line());
                        Some((at, record.deserialize::<T>(Some(&headers)).map_err(|e| named(&e, &headers))))
                    }
                    Err(e) => {
                        let at = e.position().map_or(reader.position().line(), |p| p.line());
                        done = matches!(e.kind(), csv::ErrorKind::Io(_));
                        Some((at, Err(e.to_string())))
                    }
                }
            }))
        }
        Format::Jsonl => {
            let mut lines = std::io::BufReader::new(reader).split(b'\n').enumerate();
            Box::new(std::iter::from_fn(move || {
                loop {
                    if done {
                        return None;
                    }
                    let (i, line) = lines.next()?;
                    let n = i as u64 + 1;
                    match line {
                        Err(e) => {
                            done = true;
                            return Some((n, Err(format!("cannot read further: {e}"))));
                        }
                        Ok(line) if line.iter().all(u8::is_ascii_whitespace) => continue,
                        Ok(line) => {
                            return Some((
                                n,
                                serde_json::from_slice::<T>(&line).map_err(|e| format!("invalid JSON: {e}")),
                            ));
                        }
                    }
                }
            }))
        }
    })
}
