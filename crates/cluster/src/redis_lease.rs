//! [`Lease`] in Redis: one key per lease holding `token:holder`, taken with
//! `SET NX PX`, renewed by its holder with `PEXPIRE`, released by
//! compare-and-delete; each grant to a new holder takes its fencing token
//! from one counter (`INCR`) that only grows. Each step is a Lua script, so it
//! is atomic on the server. One Redis, not Redlock: the fencing token, checked
//! by the store on every leader-only write, is what keeps a paused or
//! partitioned former holder from doing harm, and Redlock cannot give one.
//! Redis may lose the counter (a restart without persistence); the caller
//! passes the store's highest token as a floor, which lifts it again.

use std::time::Duration;

use async_trait::async_trait;
use redis::Script;
use wantloop_engine::seams::{Lease, LeaseGrant, SeamError};

use crate::RedisConn;

/// KEYS: the lease, the token counter. ARGV: holder, ttl (ms), floor.
/// Returns the holder's token, or nil while another holder's lease is live.
const ACQUIRE: &str = r"
local held = redis.call('GET', KEYS[1])
if held then
  local sep = string.find(held, ':', 1, true)
  if string.sub(held, sep + 1) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return tonumber(string.sub(held, 1, sep - 1))
  end
  return false
end
local token = redis.call('INCR', KEYS[2])
local floor = tonumber(ARGV[3])
if token <= floor then
  token = floor + 1
  redis.call('SET', KEYS[2], token)
end
redis.call('SET', KEYS[1], token .. ':' .. ARGV[1], 'NX', 'PX', ARGV[2])
return token
";

/// KEYS: the lease. ARGV: holder. Deletes the lease only if `holder` has it.
const RELEASE: &str = r"
local held = redis.call('GET', KEYS[1])
if held then
  local sep = string.find(held, ':', 1, true)
  if string.sub(held, sep + 1) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
  end
end
return 0
";

pub struct RedisLease {
    conn: RedisConn,
    prefix: String,
    acquire: Script,
    release: Script,
}

impl RedisLease {
    /// Leases whose keys start with `prefix` (say `wantloop:`).
    pub fn new(conn: RedisConn, prefix: impl Into<String>) -> Self {
        Self { conn, prefix: prefix.into(), acquire: Script::new(ACQUIRE), release: Script::new(RELEASE) }
    }

    fn key(&self, name: &str) -> String {
        format!("{}lease:{name}", self.prefix)
    }
}

fn unavailable(e: redis::RedisError) -> SeamError {
    SeamError::Unavailable { seam: "lease", reason: e.to_string() }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait]
impl Lease for RedisLease {
    async fn acquire(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
        floor: u64,
    ) -> Result<Option<LeaseGrant>, SeamError> {
        let mut conn = self.conn.clone();
        let token: Option<u64> = self
            .acquire
            .key(self.key(name))
            .key(format!("{}lease-token", self.prefix))
            .arg(holder)
            .arg(millis(ttl))
            .arg(floor)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(token.map(|token| LeaseGrant { token }))
    }

    async fn release(&self, name: &str, holder: &str) -> Result<(), SeamError> {
        let mut conn = self.conn.clone();
        self.release.key(self.key(name)).arg(holder).invoke_async::<i64>(&mut conn).await.map_err(unavailable)?;
        Ok(())
    }

    async fn holder(&self, name: &str) -> Result<Option<(String, LeaseGrant)>, SeamError> {
        let mut conn = self.conn.clone();
        let held: Option<String> =
            redis::cmd("GET").arg(self.key(name)).query_async(&mut conn).await.map_err(unavailable)?;
        Ok(held.and_then(|h| {
            let (token, holder) = h.split_once(':')?;
            Some((holder.to_string(), LeaseGrant { token: token.parse().ok()? }))
        }))
    }
}
