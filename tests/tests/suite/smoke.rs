//! Each real client against each real peer: if these fail, nothing else can be trusted.
#![allow(clippy::print_stdout)] // the demo shows what each peer answered

use ccc_tests::{moto_config, peer};

#[tokio::test]
async fn sts_get_caller_identity_against_moto() {
    let sts = aws_sdk_sts::Client::new(&moto_config().await);
    let who = sts.get_caller_identity().send().await.expect("moto answers GetCallerIdentity");
    let account = who.account().expect("an account id");
    assert_eq!(account.len(), 12, "account id {account:?}");
    assert!(who.arn().is_some_and(|a| a.starts_with("arn:aws:")), "{:?}", who.arn());
    println!("moto STS: account {account}, arn {}", who.arn().unwrap_or_default());
}

#[tokio::test]
async fn oidc_provider_discovery_names_its_issuer() {
    let issuer = peer("CCC_TEST_OIDC_ISSUER");
    let url = format!("{issuer}/.well-known/openid-configuration");
    let doc: serde_json::Value = reqwest::get(&url).await.expect("discovery reachable").json().await.expect("JSON");
    assert_eq!(doc["issuer"], serde_json::Value::String(issuer.clone()));
    let pkce = doc["code_challenge_methods_supported"].as_array().expect("PKCE methods listed");
    assert_eq!(pkce, &vec![serde_json::json!("S256")], "only S256 must be offered");
    for grant in ["client_credentials", "refresh_token", "password"] {
        assert!(
            doc["grant_types_supported"].as_array().is_some_and(|g| g.iter().any(|x| x == grant)),
            "{grant} missing from {}",
            doc["grant_types_supported"]
        );
    }
    println!("oidc-provider: issuer {issuer}, token endpoint {}", doc["token_endpoint"]);
}

#[tokio::test]
async fn postgres_answers_select_1() {
    use sqlx::Connection;
    let mut conn =
        sqlx::PgConnection::connect(&peer("CCC_TEST_DATABASE_URL")).await.expect("connect to PostgreSQL peer");
    let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(&mut conn).await.expect("SELECT 1");
    assert_eq!(one, 1);
    let version: String = sqlx::query_scalar("SHOW server_version").fetch_one(&mut conn).await.expect("version");
    println!("PostgreSQL {version}");
}
