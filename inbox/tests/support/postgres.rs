//! A fresh PostgreSQL schema per test, from `DATABASE_URL` (as
//! `scripts/postgres.sh` prints it). Without a server the caller skips, saying
//! why; with `REQUIRE_POSTGRES=1` (set by CI) that is a failure. Shared with
//! the Gemini receiver's crash test.
#![allow(dead_code, clippy::unwrap_used)]

/// A URL whose connections use a fresh schema `name`, or `None` to skip.
pub(crate) async fn database(name: &str) -> Option<String> {
    let required = std::env::var("REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    let Ok(url) = std::env::var("DATABASE_URL") else {
        assert!(!required, "REQUIRE_POSTGRES=1 but DATABASE_URL is not set");
        eprintln!("skipped: DATABASE_URL is not set (run scripts/postgres.sh for a local server)");
        return None;
    };
    let (client, connection) = match tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
        Ok(pair) => pair,
        Err(error) => {
            assert!(!required, "REQUIRE_POSTGRES=1 but {url} is unreachable: {error}");
            eprintln!("skipped: cannot reach {url}: {error}");
            return None;
        }
    };
    tokio::spawn(connection);
    let schema = format!("test_{name}_{}", std::process::id());
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let separator = if url.contains('?') { '&' } else { '?' };
    Some(format!("{url}{separator}options=-c%20search_path%3D{schema}"))
}
