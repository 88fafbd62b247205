//! The team store's tests' share of the PostgreSQL peer: a database each (the store's key
//! check is per database).

use crate::peer;

/// A new, empty database on the PostgreSQL peer named after `name` and this process: its URL.
pub async fn fresh_database(name: &str) -> String {
    let admin = peer("CCC_TEST_DATABASE_URL");
    let db = format!("ccc_team_{name}_{}", std::process::id());
    let pool = sqlx::PgPool::connect(&admin).await.expect("the PostgreSQL peer");
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db}"))).execute(&pool).await;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}"))).execute(&pool).await.expect("create database");
    pool.close().await;
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    format!("{base}/{db}")
}
