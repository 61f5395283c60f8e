//! One multiplexed, reconnecting Redis connection per process, with timeouts
//! short enough that a Redis that stops answering costs a request a cache
//! miss, not a hang.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::ClusterError;

/// A connection shared by the cache and the lease; cheap to clone.
pub type RedisConn = ConnectionManager;

/// How long one command may take before it fails (the caller then treats the
/// cache as missing, or skips a leader-only run).
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(2);

/// Connects to `url` (`redis://host:port[/db]`) and checks that it answers.
pub async fn connect_redis(url: &str) -> Result<RedisConn, ClusterError> {
    let failed = |source| ClusterError::Redis { url: url.to_string(), source };
    let client = redis::Client::open(url).map_err(failed)?;
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_connection_timeout(Some(CONNECTION_TIMEOUT))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_millis(500));
    let mut conn = tokio::time::timeout(CONNECTION_TIMEOUT * 2, ConnectionManager::new_with_config(client, config))
        .await
        .map_err(|_| failed(redis::RedisError::from((redis::ErrorKind::Io, "connection timed out"))))?
        .map_err(failed)?;
    redis::cmd("PING").query_async::<String>(&mut conn).await.map_err(failed)?;
    Ok(conn)
}
