//! The AWS console from any profile (aws-vault `login`, granted `assume -c`): a sign-in URL
//! from the federation endpoint, by AWS's documented protocol. Temporary credentials go to
//! `getSigninToken` (with `SessionDuration` where AWS allows it: not for a federated user's);
//! long-term keys, which the endpoint refuses, first become a federated user's credentials
//! with GetFederationToken (seed 002's limits table: up to 36 h, with a policy). The URL is
//! then `Action=login` with the issuer, the destination and the token.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use core_types::{AwsCredentials, ErrorKind, ExposeSecret};
use cred_store::Base;

use crate::error::SessionError;
use crate::options::{ManagerOptions, base_config};
use crate::profile::Named;
use crate::sources::{aws_error, from_sts};

/// AWS's federation endpoint (the standard partition).
pub const FEDERATION_ENDPOINT: &str = "https://signin.aws.amazon.com/federation";

/// How long a console session lasts when the credentials allow choosing (the endpoint's
/// maximum, 12 h).
pub const CONSOLE_SECONDS: u32 = 43_200;

/// The policy a federated user's credentials get: everything the IAM user may do (the
/// effective permissions are the intersection with the user's own).
const FEDERATED_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// What to open.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConsoleRequest {
    /// The console page (default: the console home, in `region` when given).
    pub destination: Option<String>,
    /// The console's region.
    pub region: Option<String>,
    /// Who issued the link (shown by AWS when the session ends).
    pub issuer: String,
    /// The federation endpoint (default [`FEDERATION_ENDPOINT`]).
    pub federation_endpoint: String,
}

impl Default for ConsoleRequest {
    fn default() -> Self {
        Self { destination: None, region: None, issuer: "ccc".into(), federation_endpoint: FEDERATION_ENDPOINT.into() }
    }
}

impl ConsoleRequest {
    /// The page to open.
    fn destination(&self) -> String {
        match (&self.destination, &self.region) {
            (Some(d), _) => d.clone(),
            (None, Some(r)) => format!("https://{r}.console.aws.amazon.com/console/home?region={r}"),
            (None, None) => "https://console.aws.amazon.com/".into(),
        }
    }
}

/// A federated user's credentials for an IAM user's long-term `keys` (GetFederationToken:
/// `name` as the federated user's name, at most 32 characters; `policy` the most it may do).
pub async fn federation_token(
    keys: &AwsCredentials,
    name: &str,
    policy: &str,
    duration: Duration,
    options: &ManagerOptions,
) -> Result<AwsCredentials, SessionError> {
    let provider = SharedCredentialsProvider::new(cred_store::to_sdk_credentials(keys));
    let sts =
        aws_sdk_sts::Client::new(&base_config(&options.sts_region(), options, Some(provider), RetryConfig::standard()));
    let name: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || "+=,.@-".contains(*c)).take(32).collect();
    let out = sts
        .get_federation_token()
        .name(if name.len() < 2 { "ccc-console".to_owned() } else { name })
        .policy(policy)
        .duration_seconds(i32::try_from(duration.as_secs()).unwrap_or(i32::MAX))
        .send()
        .await
        .map_err(|e| aws_error("console", "sts:GetFederationToken", e))?;
    out.credentials().map(from_sts).ok_or_else(|| SessionError::Aws {
        session: "console".into(),
        operation: "sts:GetFederationToken",
        code: "InvalidResponse".into(),
        message: "no credentials in the response".into(),
        request_id: None,
        cause: None,
    })
}

/// A console sign-in URL for `profile` (chosen as [`crate::credentials_for`] chooses), and
/// whether it came through GetFederationToken.
pub async fn console_url(
    profile: &str,
    named: Named,
    request: &ConsoleRequest,
    options: &ManagerOptions,
) -> Result<(String, bool), SessionError> {
    let (plan, options) = crate::profile::plan_profile(profile, named, options)?;
    let long_term = match (&plan.base, plan.hops.is_empty()) {
        (Base::StoredKey { profile, .. }, true) => Some(crate::keys::keys_of(&crate::keys::kept(&options, profile)?.1)),
        (base, true) => base.access_keys().filter(|k| k.session_token().is_none()),
        _ => None,
    };
    let creds = match long_term {
        Some(keys) => keys,
        None => crate::profile::build_plan(plan, &options).await?.credentials().await?,
    };
    // long-term keys (the profile's, or what its provider gives) go through GetFederationToken
    let federated = creds.session_token().is_none();
    let creds = match federated {
        true => {
            let lifetime = Duration::from_secs(u64::from(CONSOLE_SECONDS));
            federation_token(&creds, &format!("ccc-{profile}"), FEDERATED_POLICY, lifetime, &options).await?
        }
        false => creds,
    };
    Ok((sign_in_url(&creds, request, !federated, &options).await?, federated))
}

/// `getSigninToken` with temporary `creds`, then the `login` URL.
pub async fn sign_in_url(
    creds: &AwsCredentials,
    request: &ConsoleRequest,
    choose_duration: bool,
    options: &ManagerOptions,
) -> Result<String, SessionError> {
    let failed =
        |message: String, kind: ErrorKind| SessionError::Credentials { session: "console".into(), kind, message };
    let token = creds.session_token().ok_or_else(|| {
        failed("the federation endpoint takes temporary credentials only".into(), ErrorKind::InvalidInput)
    })?;
    let session = serde_json::json!({
        "sessionId": creds.access_key_id().expose_secret(),
        "sessionKey": creds.secret_access_key().expose_secret(),
        "sessionToken": token.expose_secret(),
    })
    .to_string();
    let mut query = vec![("Action", "getSigninToken".to_owned())];
    if choose_duration {
        query.push(("SessionDuration", CONSOLE_SECONDS.to_string()));
    }
    query.push(("Session", session));
    let http = reqwest::Client::builder()
        .timeout(options.attempt_timeout)
        .build()
        .map_err(|e| failed(format!("cannot build an HTTP client: {e}"), ErrorKind::Other))?;
    let mut ask = reqwest::Url::parse(&request.federation_endpoint)
        .map_err(|e| failed(format!("the federation endpoint is not a URL: {e}"), ErrorKind::InvalidInput))?;
    ask.query_pairs_mut().extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
    let answer = http
        .get(ask)
        .send()
        .await
        .map_err(|e| failed(format!("the federation endpoint did not answer: {e}"), ErrorKind::Unavailable))?;
    let status = answer.status();
    if !status.is_success() {
        let kind = if status.is_server_error() { ErrorKind::Unavailable } else { ErrorKind::NotAuthorized };
        return Err(failed(format!("the federation endpoint refused the credentials (HTTP {status})"), kind));
    }
    let body: serde_json::Value = answer
        .json()
        .await
        .map_err(|e| failed(format!("the federation endpoint's answer is not JSON: {e}"), ErrorKind::Unavailable))?;
    let signin = body
        .get("SigninToken")
        .and_then(|v| v.as_str())
        .ok_or_else(|| failed("the federation endpoint gave no SigninToken".into(), ErrorKind::Unavailable))?;
    let mut url = reqwest::Url::parse(&request.federation_endpoint)
        .map_err(|e| failed(format!("the federation endpoint is not a URL: {e}"), ErrorKind::InvalidInput))?;
    url.query_pairs_mut()
        .clear()
        .append_pair("Action", "login")
        .append_pair("Issuer", &request.issuer)
        .append_pair("Destination", &request.destination())
        .append_pair("SigninToken", signin);
    Ok(url.to_string())
}
