//! Cursor pagination for list endpoints: `limit` and an opaque `cursor`
//! (the last id seen) in, `items` and `next_cursor` out.

use serde::{Deserialize, Serialize};
use wantloop_store::Page;

use crate::problem::ApiError;

pub const DEFAULT_LIMIT: u32 = 50;

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

pub fn parse_page(limit: Option<&str>, cursor: Option<&str>) -> Result<Page, ApiError> {
    let limit =
        match limit {
            None => DEFAULT_LIMIT,
            Some(l) => l.parse::<u32>().ok().filter(|l| (1..=Page::MAX_LIMIT).contains(l)).ok_or_else(|| {
                ApiError::bad_field("limit", format!("must be an integer from 1 to {}", Page::MAX_LIMIT))
            })?,
        };
    let after = match cursor {
        None | Some("") => 0,
        Some(c) => c
            .parse::<i64>()
            .ok()
            .filter(|c| *c >= 0)
            .ok_or_else(|| ApiError::bad_field("cursor", "is not a cursor this server issued"))?,
    };
    Ok(Page { after, limit })
}

pub fn paged<T>(items: Vec<T>, page: Page, id: impl Fn(&T) -> i64) -> Paged<T> {
    let next_cursor = if items.len() as u32 == page.limit { items.last().map(|t| id(t).to_string()) } else { None };
    Paged { items, next_cursor }
}

pub fn parse_opt<T>(
    raw: Option<&str>,
    parse: impl Fn(&str) -> Result<T, wantloop_core::ValidationError>,
) -> Result<Option<T>, ApiError> {
    raw.filter(|s| !s.is_empty()).map(parse).transpose().map_err(ApiError::from)
}
