//! Match rows: proposals that reserve units, and the transitions of the match
//! lifecycle that accept, release, or consume them (and relist fulfilled items).

use serde::Serialize;
use sqlx::{AnyPool, AssertSqlSafe};
use wantloop_core::matching::Relist;
use wantloop_core::values::{Category, Money, PartyId, Quantity, Text};
use wantloop_core::{Demand, Match, MatchStatus, MatchTransition, NewOffer, Offer};

use super::args::{Arg, Where};
use super::offers::Origin;
use super::rows::{MATCH_COLS, matched};
use super::{Dialect, WriteTx, demands, offers, outbox};
use crate::error::StoreError;
use crate::model::{MatchFilter, NewMatch, Page, Proposal, Skipped};

/// What a match event carries: the match and both sides after the change.
#[derive(Serialize)]
struct MatchEvent<'a> {
    #[serde(rename = "match")]
    m: &'a Match,
    demand: &'a Demand,
    offer: &'a Offer,
}

async fn emit(w: &mut WriteTx, m: &Match) -> Result<(), StoreError> {
    let demand = demands::lock(w, m.demand_id).await?;
    let offer = offers::lock(w, m.offer_id).await?;
    emit_with(w, m, &demand, &offer).await
}

/// Emits a match event with both sides as the transaction left them.
async fn emit_with(w: &mut WriteTx, m: &Match, demand: &Demand, offer: &Offer) -> Result<(), StoreError> {
    let kind = format!("match.{}", m.status.as_str());
    outbox::emit(w, &kind, "match", m.id, &MatchEvent { m, demand, offer }).await
}

pub(crate) async fn get(pool: &AnyPool, id: i64) -> Result<Match, StoreError> {
    let sql = format!("SELECT {MATCH_COLS} FROM matches WHERE id = $1");
    let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?;
    row.map(|r| matched(&r)).transpose()?.ok_or(StoreError::NotFound { entity: "match", id })
}

async fn lock(w: &mut WriteTx, id: i64) -> Result<Match, StoreError> {
    let sql = format!("SELECT {MATCH_COLS} FROM matches WHERE id = $1{}", w.dialect.for_update());
    let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *w.tx).await?;
    row.map(|r| matched(&r)).transpose()?.ok_or(StoreError::NotFound { entity: "match", id })
}

pub(crate) async fn list(pool: &AnyPool, f: &MatchFilter, page: Page) -> Result<Vec<Match>, StoreError> {
    let mut w = Where::default();
    w.push("id", ">", Arg::Int(page.after))
        .push_opt_text("status", f.status.map(|s| s.as_str()))
        .push_opt_int("demand_id", f.demand_id)
        .push_opt_int("offer_id", f.offer_id);
    if let Some(party) = &f.party {
        w.push_repeated(
            "(demand_id IN (SELECT id FROM demands WHERE requester = $?) \
             OR offer_id IN (SELECT id FROM offers WHERE provider = $?))",
            party,
        );
    }
    let tail = format!("ORDER BY id LIMIT {}", page.limit.clamp(1, Page::MAX_LIMIT));
    let rows = w.select(MATCH_COLS, "matches", &tail).fetch_all(pool).await?;
    rows.iter().map(matched).collect()
}

pub(crate) async fn propose(w: &mut WriteTx, demand_id: i64, proposals: &[NewMatch]) -> Result<Proposal, StoreError> {
    let d = demands::lock(w, demand_id).await?;
    if d.status.is_terminal() {
        return Err(StoreError::illegal("demand", demand_id, "match", d.status.as_str()));
    }
    let mut open = d.open_units();
    let mut result = Proposal { demand_id, matches: Vec::new(), skipped: Vec::new() };
    for p in proposals {
        let units = p.units.min(open);
        if units <= 0 {
            let reason = "the demand has no open units left".to_string();
            result.skipped.push(Skipped { offer_id: p.offer_id, reason });
            continue;
        }
        let Some(offer) = offers::try_reserve(w, p.offer_id, units, &d).await? else {
            let reason = "the offer no longer has the units free, or does not fit the demand".to_string();
            result.skipped.push(Skipped { offer_id: p.offer_id, reason });
            continue;
        };
        open -= units;
        let demand = demands::move_units(w, demand_id, units, 0).await?;
        let sql = format!(
            "INSERT INTO matches (demand_id, offer_id, units, score, features, status, created_at, updated_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, 'proposed', $6, $6, $7) RETURNING {MATCH_COLS}"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(demand_id)
            .bind(p.offer_id)
            .bind(units)
            .bind(p.score)
            .bind(serde_json::to_string(&p.features)?)
            .bind(w.now)
            .bind(p.ttl_ms.map(|t| w.now + t))
            .fetch_one(&mut *w.tx)
            .await?;
        let m = matched(&row)?;
        emit_with(w, &m, &demand, &offer).await?;
        result.matches.push(m);
    }
    Ok(result)
}

/// Ends a live match as `to` (rejected or expired) and returns its units to the
/// offer and the demand. Used by transitions and by demand cancellation/expiry.
pub(crate) async fn release(w: &mut WriteTx, m: &Match, to: MatchStatus) -> Result<Match, StoreError> {
    offers::adjust(w, m.offer_id, m.units, 0).await?;
    demands::move_units(w, m.demand_id, -m.units, 0).await?;
    set_status(w, m.id, to, None).await
}

async fn set_status(w: &mut WriteTx, id: i64, to: MatchStatus, relisted: Option<i64>) -> Result<Match, StoreError> {
    let sql = format!(
        "UPDATE matches SET status = $1, updated_at = $2, relisted_offer_id = COALESCE($3, relisted_offer_id) \
         WHERE id = $4 RETURNING {MATCH_COLS}"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(to.as_str())
        .bind(w.now)
        .bind(relisted)
        .bind(id)
        .fetch_one(&mut *w.tx)
        .await?;
    let m = matched(&row)?;
    emit(w, &m).await?;
    Ok(m)
}

pub(crate) async fn transition(
    w: &mut WriteTx,
    id: i64,
    t: MatchTransition,
    relist: Option<&Relist>,
) -> Result<Match, StoreError> {
    // Lock in the global order (demand, offer, match), then re-read the match.
    // The first read goes through the transaction's own connection: taking a
    // second pooled connection while this one is held lets concurrent
    // transitions exhaust the pool and wait on each other.
    let seen = {
        let sql = format!("SELECT {MATCH_COLS} FROM matches WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *w.tx).await?;
        row.map(|r| matched(&r)).transpose()?.ok_or(StoreError::NotFound { entity: "match", id })?
    };
    let d = demands::lock(w, seen.demand_id).await?;
    let o = offers::lock(w, seen.offer_id).await?;
    let m = lock(w, id).await?;
    let target = t.target(m.status).ok_or_else(|| StoreError::illegal_match(id, t.name(), m.status))?;
    match target {
        MatchStatus::Accepted => {
            if o.status == wantloop_core::OfferStatus::Withdrawn {
                return Err(StoreError::illegal("offer", o.id, "accept a match of", o.status.as_str()));
            }
            lifecycle_interaction(w, &d, &m, wantloop_core::InteractionKind::Accept).await?;
            set_status(w, id, target, None).await
        }
        MatchStatus::Rejected | MatchStatus::Expired => release(w, &m, target).await,
        MatchStatus::Fulfilled => {
            offers::adjust(w, m.offer_id, m.units, m.units).await?;
            demands::move_units(w, m.demand_id, -m.units, m.units).await?;
            lifecycle_interaction(w, &d, &m, wantloop_core::InteractionKind::Fulfil).await?;
            let relisted = match relist {
                Some(r) => Some(relist_item(w, &m, &d, &o, r).await?.id),
                None => None,
            };
            set_status(w, id, target, relisted).await
        }
        MatchStatus::Proposed => Err(StoreError::illegal_match(id, t.name(), m.status)),
    }
}

/// Accepting and fulfilling are feedback for the recommender: the requester
/// chose this offer.
async fn lifecycle_interaction(
    w: &mut WriteTx,
    d: &Demand,
    m: &Match,
    kind: wantloop_core::InteractionKind,
) -> Result<(), StoreError> {
    let user = PartyId::parse("user", &d.requester).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let new = wantloop_core::NewInteraction { user, offer_id: m.offer_id, kind, value: 1.0 };
    super::interactions::insert(w, &new).await.map(|_| ())
}

/// The circular loop: the requester now owns the fulfilled item and offers it on.
async fn relist_item(w: &mut WriteTx, m: &Match, d: &Demand, o: &Offer, r: &Relist) -> Result<Offer, StoreError> {
    let requested = r.quantity.map_or(m.units, Quantity::get);
    if requested > m.units {
        return Err(StoreError::RelistTooLarge { requested, available: m.units });
    }
    let parse_err = |e: wantloop_core::ValidationError| StoreError::Corrupt(e.to_string());
    let new = NewOffer {
        provider: PartyId::parse("provider", &d.requester).map_err(parse_err)?,
        text: Text::parse("text", &o.text).map_err(parse_err)?,
        category: Category::parse("category", &o.category).map_err(parse_err)?,
        price: match r.price {
            Some(p) => p,
            None => Money::parse("price", o.price).map_err(parse_err)?,
        },
        location: r.location.or(d.location).or(o.location),
        capacity: Quantity::parse("capacity", requested).map_err(parse_err)?,
        condition: Some(r.condition.clone().unwrap_or_else(|| "used".to_string())),
    };
    offers::insert(w, &new, Some(Origin { offer_id: o.id, match_id: m.id })).await
}

/// Ids of up to `limit` proposed matches whose expiry time has passed, the
/// longest overdue first (a range of the `matches_due` index).
pub(crate) async fn due(pool: &AnyPool, dialect: Dialect, now: i64, limit: i64) -> Result<Vec<i64>, StoreError> {
    let sql = format!(
        "SELECT id FROM matches{} WHERE status = 'proposed' AND expires_at IS NOT NULL AND expires_at <= $1 \
         ORDER BY expires_at, id LIMIT $2",
        dialect.indexed_by("matches_due")
    );
    let ids: Vec<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now).bind(limit).fetch_all(pool).await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}
