//! A Rust SDK program configured by nothing but the container credentials variables
//! (`AWS_CONTAINER_CREDENTIALS_FULL_URI`, `AWS_CONTAINER_AUTHORIZATION_TOKEN`) and
//! `AWS_ENDPOINT_URL`: aws-config's ECS provider fetches the credentials, STS says who they
//! belong to. Prints the access key id and the caller's ARN; the `ccc serve` test runs it.
#![allow(clippy::print_stdout)] // the line is the output

use aws_config::BehaviorVersion;
use aws_credential_types::provider::ProvideCredentials;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    let provider = aws_config::ecs::EcsCredentialsProvider::builder().build();
    let creds = provider.provide_credentials().await.map_err(|e| format!("ECS provider: {e:?}"))?;
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(provider)
        .load()
        .await;
    let who =
        aws_sdk_sts::Client::new(&config).get_caller_identity().send().await.map_err(|e| format!("STS: {e:?}"))?;
    println!("{} {}", creds.access_key_id(), who.arn().unwrap_or_default());
    Ok(())
}
