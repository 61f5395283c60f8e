//! Image rows: an owner's images in order, their bytes (in the row or under
//! object-store keys), and their visual vectors for the index. Adding and
//! deleting write `image.added` / `image.deleted` events (re-vectorising
//! `image.revectored`), so every node's visual index follows.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, AssertSqlSafe, Row};

use super::{WriteTx, outbox};
use crate::error::StoreError;
use crate::model::{ImageInfo, ImageOwner, ImageVector, NewImage};

const COLS: &str = "id, owner, owner_id, position, content_type, width, height, size, sha256, features, created_at";

fn info(row: &AnyRow) -> Result<ImageInfo, StoreError> {
    let owner: String = row.try_get("owner")?;
    Ok(ImageInfo {
        id: row.try_get("id")?,
        owner: ImageOwner::from_row(&owner)?,
        owner_id: row.try_get("owner_id")?,
        position: row.try_get("position")?,
        content_type: row.try_get("content_type")?,
        width: row.try_get("width")?,
        height: row.try_get("height")?,
        size: row.try_get("size")?,
        sha256: row.try_get("sha256")?,
        features: row.try_get("features")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(crate) fn vector_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A row selected with `{COLS}, vector`.
fn with_vector(row: &AnyRow) -> Result<ImageVector, StoreError> {
    Ok(ImageVector { info: info(row)?, vector: vector(&row.try_get::<Vec<u8>, _>("vector")?)? })
}

fn vector(bytes: &[u8]) -> Result<Vec<f32>, StoreError> {
    if !bytes.len().is_multiple_of(4) {
        return Err(StoreError::Corrupt(format!("an image vector of {} bytes", bytes.len())));
    }
    Ok(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

/// Where an image's bytes go: in its row, or under these object-store keys.
#[derive(Clone, Copy)]
pub(crate) enum Placement<'a> {
    InRow,
    Stored { data: &'a str, thumb: &'a str },
}

pub(crate) async fn insert(
    w: &mut WriteTx,
    image: &NewImage,
    place: Placement<'_>,
    limit: u32,
) -> Result<ImageInfo, StoreError> {
    let owner = image.owner.as_str();
    let table = match image.owner {
        ImageOwner::Offer => "offers",
        ImageOwner::Demand => "demands",
    };
    let exists = sqlx::query(AssertSqlSafe(format!("SELECT id FROM {table} WHERE id = $1{}", w.dialect.for_update())))
        .bind(image.owner_id)
        .fetch_optional(&mut *w.tx)
        .await?;
    if exists.is_none() {
        return Err(StoreError::NotFound { entity: owner, id: image.owner_id });
    }
    let (count, last): (i64, i64) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(MAX(position), 0) AS BIGINT) FROM images \
         WHERE owner = $1 AND owner_id = $2",
    )
    .bind(owner)
    .bind(image.owner_id)
    .fetch_one(&mut *w.tx)
    .await?;
    if count >= i64::from(limit) {
        return Err(StoreError::TooManyImages { entity: owner, id: image.owner_id, limit });
    }
    let (data, thumb, data_key, thumb_key) = match place {
        Placement::InRow => (Some(image.original.clone()), Some(image.thumbnail.clone()), None, None),
        Placement::Stored { data, thumb } => (None, None, Some(data.to_string()), Some(thumb.to_string())),
    };
    let sql = format!(
        "INSERT INTO images (owner, owner_id, position, content_type, width, height, size, sha256, features, \
         vector, data, thumb, data_key, thumb_key, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING {COLS}"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(owner)
        .bind(image.owner_id)
        .bind(last + 1)
        .bind(image.content_type.as_str())
        .bind(i64::from(image.width))
        .bind(i64::from(image.height))
        .bind(image.original.len() as i64)
        .bind(image.sha256.as_str())
        .bind(image.features.as_str())
        .bind(vector_bytes(&image.vector))
        .bind(data)
        .bind(thumb)
        .bind(data_key)
        .bind(thumb_key)
        .bind(w.now)
        .fetch_one(&mut *w.tx)
        .await?;
    let created = info(&row)?;
    outbox::emit(w, "image.added", "image", created.id, &created).await?;
    Ok(created)
}

pub(crate) async fn of_owner(pool: &AnyPool, owner: ImageOwner, owner_id: i64) -> Result<Vec<ImageInfo>, StoreError> {
    let sql = format!("SELECT {COLS} FROM images WHERE owner = $1 AND owner_id = $2 ORDER BY position");
    let rows = sqlx::query(AssertSqlSafe(sql)).bind(owner.as_str()).bind(owner_id).fetch_all(pool).await?;
    rows.iter().map(info).collect()
}

/// One image and its bytes (the thumbnail's when `thumbnail`): in the row,
/// or the key that holds them.
pub(crate) async fn bytes(
    pool: &AnyPool,
    owner: ImageOwner,
    owner_id: i64,
    position: i64,
    thumbnail: bool,
) -> Result<(ImageInfo, Result<Vec<u8>, String>), StoreError> {
    let (data, key) = if thumbnail { ("thumb", "thumb_key") } else { ("data", "data_key") };
    let sql = format!(
        "SELECT {COLS}, {data} AS bytes, {key} AS bytes_key FROM images \
         WHERE owner = $1 AND owner_id = $2 AND position = $3"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(owner.as_str())
        .bind(owner_id)
        .bind(position)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound { entity: "image", id: position })?;
    let found = info(&row)?;
    let bytes = match row.try_get::<Option<String>, _>("bytes_key")? {
        Some(key) => Err(key),
        None => Ok(row.try_get::<Option<Vec<u8>>, _>("bytes")?.unwrap_or_default()),
    };
    Ok((found, bytes))
}

/// Deletes an image; returns it with the object-store keys to delete after
/// the commit.
pub(crate) async fn delete(
    w: &mut WriteTx,
    owner: ImageOwner,
    owner_id: i64,
    position: i64,
) -> Result<(ImageInfo, Vec<String>), StoreError> {
    let sql = format!(
        "SELECT {COLS}, data_key, thumb_key FROM images WHERE owner = $1 AND owner_id = $2 AND position = $3{}",
        w.dialect.for_update()
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(owner.as_str())
        .bind(owner_id)
        .bind(position)
        .fetch_optional(&mut *w.tx)
        .await?
        .ok_or(StoreError::NotFound { entity: "image", id: position })?;
    let gone = info(&row)?;
    let keys: Vec<String> =
        ["data_key", "thumb_key"].iter().filter_map(|k| row.try_get::<Option<String>, _>(*k).ok().flatten()).collect();
    sqlx::query("DELETE FROM images WHERE id = $1").bind(gone.id).execute(&mut *w.tx).await?;
    outbox::emit(w, "image.deleted", "image", gone.id, &gone).await?;
    Ok((gone, keys))
}

pub(crate) async fn set_vector(
    w: &mut WriteTx,
    id: i64,
    features: &str,
    vector: &[f32],
) -> Result<ImageInfo, StoreError> {
    let changed = sqlx::query("UPDATE images SET features = $1, vector = $2 WHERE id = $3")
        .bind(features)
        .bind(vector_bytes(vector))
        .bind(id)
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
    if changed == 0 {
        return Err(StoreError::NotFound { entity: "image", id });
    }
    let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLS} FROM images WHERE id = $1")))
        .bind(id)
        .fetch_one(&mut *w.tx)
        .await?;
    let updated = info(&row)?;
    outbox::emit(w, "image.revectored", "image", id, &updated).await?;
    Ok(updated)
}

/// The images of these owners with their vectors, by owner and position.
pub(crate) async fn vectors_of(pool: &AnyPool, owner: ImageOwner, ids: &[i64]) -> Result<Vec<ImageVector>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids = &ids[..ids.len().min(1000)];
    // Ids are integers: inlined, they cannot inject anything.
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    let sql = format!(
        "SELECT {COLS}, vector FROM images WHERE owner = $1 AND owner_id IN ({}) ORDER BY owner_id, position",
        list.join(", ")
    );
    let rows = sqlx::query(AssertSqlSafe(sql)).bind(owner.as_str()).fetch_all(pool).await?;
    rows.iter().map(with_vector).collect()
}

/// Images with `id > after`, oldest first, with their vectors.
pub(crate) async fn vectors_after(pool: &AnyPool, after: i64, limit: u32) -> Result<Vec<ImageVector>, StoreError> {
    let sql = format!("SELECT {COLS}, vector FROM images WHERE id > $1 ORDER BY id LIMIT {}", limit.clamp(1, 1000));
    let rows = sqlx::query(AssertSqlSafe(sql)).bind(after).fetch_all(pool).await?;
    rows.iter().map(with_vector).collect()
}
