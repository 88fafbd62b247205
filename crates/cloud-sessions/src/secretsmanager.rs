//! `SEC/` references read from AWS Secrets Manager (feature `secrets-manager`).

use core_types::SecretString;

use crate::refs::{BoxFuture, SecretStore};

/// AWS Secrets Manager through a session's credentials.
#[derive(Debug, Clone)]
pub struct AwsSecretStore {
    client: aws_sdk_secretsmanager::Client,
}

impl AwsSecretStore {
    /// Reads secrets with `sdk`'s credentials and region.
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self { client: aws_sdk_secretsmanager::Client::new(sdk) }
    }
}

impl SecretStore for AwsSecretStore {
    fn name(&self) -> &str {
        "AWS Secrets Manager"
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<SecretString>, String>> {
        Box::pin(async move {
            use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
            match self.client.get_secret_value().secret_id(key).send().await {
                Ok(out) => Ok(out.secret_string().map(|s| SecretString::from(s.to_owned()))),
                Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(None),
                Err(e) => {
                    Err(format!("{}: {}", e.code().unwrap_or("no response"), e.message().unwrap_or("request failed")))
                }
            }
        })
    }
}
