//! The visual index on disk, beside the search index: the graph, its slots
//! and the outbox position they reflect, so a restart reads a file and
//! applies the events since instead of rebuilding the graph (most of a
//! start at a million images). A snapshot is trusted only when made by the
//! same features, not ahead of the store (another database) and not older
//! than what retention has kept (events it needs are gone); anything else,
//! a damaged file included, is logged and rebuilt from the store.

use std::path::Path;

use serde::{Deserialize, Serialize};
use wantloop_image::ann::Index;
use wantloop_store::{ImageInfo, Store, StoreError};

use crate::visual::{Slot, State};

const MAGIC: &[u8; 8] = b"WLVISUAL";
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Header {
    format: u32,
    features: String,
    cursor: i64,
    slots: Vec<SavedSlot>,
}

#[derive(Serialize, Deserialize)]
struct SavedSlot {
    image: ImageInfo,
    deleted: bool,
}

/// The snapshot's bytes: magic, header length, JSON header, graph.
pub(crate) fn encode(features: &str, state: &State) -> Vec<u8> {
    let header = Header {
        format: FORMAT,
        features: features.to_string(),
        cursor: state.cursor,
        slots: state.slots.iter().map(|s| SavedSlot { image: s.image.clone(), deleted: s.deleted }).collect(),
    };
    let json = serde_json::to_vec(&header).expect("a header serialises");
    let mut out = Vec::with_capacity(16 + json.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    state.graph.save(&mut out).expect("writing to memory");
    out
}

/// Writes through a temporary file and a rename, so a crash mid-write
/// leaves the previous snapshot.
pub(crate) async fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let partial = path.with_extension("partial");
    tokio::fs::write(&partial, bytes).await?;
    tokio::fs::rename(&partial, path).await
}

/// The graph, slots and cursor saved at `path`, if present and trustworthy
/// for `features` over `store`.
pub(crate) async fn load(
    store: &dyn Store,
    path: &Path,
    features: &str,
) -> Result<Option<(Index, Vec<Slot>, i64)>, StoreError> {
    let bytes = match tokio::fs::read(path).await {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot read the visual index; rebuilding it");
            return Ok(None);
        }
    };
    let decoded = tokio::task::spawn_blocking(move || decode(&bytes)).await.unwrap_or_else(|e| Err(e.to_string()));
    let (header, graph) = match decoded {
        Ok(d) => d,
        Err(why) => {
            tracing::warn!(path = %path.display(), why, "damaged visual index; rebuilding it");
            return Ok(None);
        }
    };
    let stale = if header.features != features {
        Some("made by other features")
    } else if header.cursor > store.last_event_id().await? {
        Some("ahead of the store")
    } else if header.cursor < store.events_pruned_through().await? {
        Some("older than the events retention kept")
    } else {
        None
    };
    if let Some(why) = stale {
        tracing::warn!(path = %path.display(), why, "visual index not usable; rebuilding it");
        return Ok(None);
    }
    let slots = header.slots.into_iter().map(|s| Slot { image: s.image, deleted: s.deleted }).collect();
    Ok(Some((graph, slots, header.cursor)))
}

fn decode(bytes: &[u8]) -> Result<(Header, Index), String> {
    let rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or("not a visual index")?;
    let (len, rest) = rest.split_first_chunk::<8>().ok_or("truncated")?;
    let len = usize::try_from(u64::from_le_bytes(*len)).map_err(|e| e.to_string())?;
    if len > rest.len() {
        return Err("truncated header".into());
    }
    let (json, mut graph) = rest.split_at(len);
    let header: Header = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    if header.format != FORMAT {
        return Err(format!("format {}", header.format));
    }
    let index = Index::load(&mut graph).map_err(|e| e.to_string())?;
    if index.len() != header.slots.len() {
        return Err("graph and slots disagree".into());
    }
    if !graph.is_empty() {
        return Err("trailing bytes".into());
    }
    Ok((header, index))
}
