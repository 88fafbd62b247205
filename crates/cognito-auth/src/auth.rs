use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_sdk_cognitoidentityprovider as idp;
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthOutput;
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, AuthenticationResultType, ChallengeNameType};
use core_types::{AwsCredentials, Clock, ExposeSecret, SecretString, SystemClock, TokenSet};

use crate::config::{AuthFlow, CognitoConfig};
use crate::error::{CognitoError, from_service};
use crate::srp::{SrpClient, cognito_timestamp, secret_hash};

/// A challenge Cognito asks the user to answer before it issues tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChallengeName {
    /// The user must choose a new password (admin-created users).
    NewPasswordRequired,
    /// A code sent by SMS.
    SmsMfa,
    /// A code from an authenticator app (TOTP).
    SoftwareTokenMfa,
    /// Pick `SMS_MFA` or `SOFTWARE_TOKEN_MFA`.
    SelectMfaType,
    /// MFA must be set up first.
    MfaSetup,
    /// A pool's own challenge (its Lambda triggers ask it; the parameters say what): answered
    /// by the caller's callback with [`ChallengeAnswer::Custom`].
    CustomChallenge,
    /// Anything else, by name.
    Other(String),
}

impl ChallengeName {
    fn parse(s: &str) -> Self {
        match s {
            "NEW_PASSWORD_REQUIRED" => Self::NewPasswordRequired,
            "SMS_MFA" => Self::SmsMfa,
            "SOFTWARE_TOKEN_MFA" => Self::SoftwareTokenMfa,
            "SELECT_MFA_TYPE" => Self::SelectMfaType,
            "MFA_SETUP" => Self::MfaSetup,
            "CUSTOM_CHALLENGE" => Self::CustomChallenge,
            other => Self::Other(other.to_owned()),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Self::NewPasswordRequired => "NEW_PASSWORD_REQUIRED",
            Self::SmsMfa => "SMS_MFA",
            Self::SoftwareTokenMfa => "SOFTWARE_TOKEN_MFA",
            Self::SelectMfaType => "SELECT_MFA_TYPE",
            Self::MfaSetup => "MFA_SETUP",
            Self::CustomChallenge => "CUSTOM_CHALLENGE",
            Self::Other(s) => s,
        }
    }
}

/// The secret to add to an authenticator app while answering `MFA_SETUP`.
#[derive(Clone)]
#[non_exhaustive]
pub struct TotpSetup {
    /// The shared secret (base32), for typing in by hand.
    pub secret: SecretString,
    /// `otpauth://totp/…`, for a QR code.
    pub uri: SecretString,
}

impl fmt::Debug for TotpSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSetup([REDACTED])")
    }
}

/// A pending challenge. Hand it back with an answer to [`CognitoAuthenticator::respond_to_challenge`].
#[derive(Clone)]
#[non_exhaustive]
pub struct Challenge {
    /// Which challenge.
    pub name: ChallengeName,
    /// Cognito's challenge parameters (e.g. `requiredAttributes`, `CODE_DELIVERY_DESTINATION`).
    pub parameters: HashMap<String, String>,
    username: String,
    session: Option<SecretString>,
    totp: Option<TotpSetup>,
}

impl Challenge {
    /// The username the challenge is for (Cognito's internal name when it sent one).
    pub fn username(&self) -> &str {
        &self.username
    }

    /// For `MFA_SETUP`, once [`CognitoAuthenticator::associate_software_token`] ran: the secret
    /// to add to an authenticator app.
    pub fn totp_setup(&self) -> Option<&TotpSetup> {
        self.totp.as_ref()
    }

    pub(crate) fn session(&self) -> Option<&SecretString> {
        self.session.as_ref()
    }

    pub(crate) fn set_setup(&mut self, session: Option<SecretString>, setup: TotpSetup) {
        if session.is_some() {
            self.session = session;
        }
        self.totp = Some(setup);
    }
}

impl fmt::Debug for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Challenge")
            .field("name", &self.name)
            .field("parameters", &self.parameters)
            .field("username", &self.username)
            .field("session", &self.session.as_ref().map(|_| "[REDACTED]"))
            .field("totp", &self.totp)
            .finish()
    }
}

/// An answer to a [`Challenge`].
#[derive(Clone)]
#[non_exhaustive]
pub enum ChallengeAnswer {
    /// The new password, with any required attributes (`name`, `email`, ...).
    NewPassword {
        /// The new password.
        password: SecretString,
        /// Required attributes, as `(name, value)`.
        attributes: Vec<(String, String)>,
    },
    /// An SMS or TOTP code.
    MfaCode(String),
    /// `SMS_MFA` or `SOFTWARE_TOKEN_MFA`.
    SelectMfaType(String),
    /// The answer to a `CUSTOM_CHALLENGE` (sent as `ANSWER`).
    Custom(SecretString),
}

impl fmt::Debug for ChallengeAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NewPassword { attributes, .. } => {
                f.debug_struct("NewPassword").field("password", &"[REDACTED]").field("attributes", attributes).finish()
            }
            Self::MfaCode(_) => f.write_str("MfaCode([REDACTED])"),
            Self::SelectMfaType(t) => f.debug_tuple("SelectMfaType").field(t).finish(),
            Self::Custom(_) => f.write_str("Custom([REDACTED])"),
        }
    }
}

/// The result of a sign-in step: tokens, or a challenge to answer.
#[derive(Debug, Clone)]
pub enum AuthOutcome {
    /// Signed in.
    Tokens(TokenSet),
    /// Cognito asks for more.
    Challenge(Challenge),
}

impl AuthOutcome {
    /// The tokens, or an error naming the pending challenge.
    pub fn into_tokens(self) -> Result<TokenSet, CognitoError> {
        match self {
            Self::Tokens(t) => Ok(t),
            Self::Challenge(c) => {
                Err(CognitoError::Invalid(format!("sign-in needs the {} challenge answered", c.name.as_str())))
            }
        }
    }
}

/// A failed Cognito call as facts: its operation, Cognito's code and message (or, without an
/// answer, the innermost cause in words), the request id; the kind Cognito's code means.
pub(crate) fn map_err<O>(
    what: &str,
) -> impl Fn(idp::error::SdkError<O, idp::config::http::HttpResponse>) -> CognitoError + '_
where
    O: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |e| {
        // Cognito's own reading of the code wins (an expired refresh token is NotAuthorizedException)
        let kind = core_types::Kinded::kind(&from_service(e.code(), e.message(), &e.to_string()));
        CognitoError::Call(aws_failure::AwsCallError::new("Cognito", what, e).with_kind(kind))
    }
}

/// Signs users in to a Cognito user pool and exchanges their tokens for AWS credentials.
#[derive(Clone)]
pub struct CognitoAuthenticator {
    config: CognitoConfig,
    idp: idp::Client,
    identity: aws_sdk_cognitoidentity::Client,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for CognitoAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CognitoAuthenticator").field("config", &self.config).finish_non_exhaustive()
    }
}

impl CognitoAuthenticator {
    /// An authenticator using `sdk` for the endpoint, HTTP client and signing (Cognito's
    /// sign-in calls are unsigned; the region comes from the config).
    pub fn new(config: CognitoConfig, sdk: &SdkConfig) -> Self {
        let retry = RetryConfig::standard()
            .with_max_attempts(config.retry.max_retries() + 1)
            .with_initial_backoff(config.retry.base_delay().max(Duration::from_millis(1)));
        let region = aws_config::Region::new(config.region.clone());
        // every attempt has a deadline: a stalled endpoint costs one attempt, not forever
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(config.attempt_timeout)
            .operation_attempt_timeout(config.attempt_timeout)
            .build();
        let idp_conf = idp::config::Builder::from(sdk)
            .region(region.clone())
            .retry_config(retry.clone())
            .timeout_config(timeouts.clone())
            .build();
        let id_conf = aws_sdk_cognitoidentity::config::Builder::from(sdk)
            .region(region)
            .retry_config(retry)
            .timeout_config(timeouts)
            .build();
        Self {
            config,
            idp: idp::Client::from_conf(idp_conf),
            identity: aws_sdk_cognitoidentity::Client::from_conf(id_conf),
            clock: Arc::new(SystemClock),
        }
    }

    /// Uses `clock` for token expiry and the SRP timestamp.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &CognitoConfig {
        &self.config
    }

    pub(crate) fn idp(&self) -> &idp::Client {
        &self.idp
    }

    pub(crate) fn secret_hash(&self, username: &str) -> Option<String> {
        self.config
            .app_client_secret
            .as_ref()
            .map(|s| secret_hash(username, &self.config.app_client_id, s.expose_secret()))
    }

    /// Signs a user in: SRP by default (the password never leaves the machine), or
    /// USER_PASSWORD_AUTH when configured.
    pub async fn authenticate(&self, username: &str, password: &SecretString) -> Result<AuthOutcome, CognitoError> {
        if username.is_empty() {
            return Err(CognitoError::Invalid("username is empty".into()));
        }
        match self.config.auth_flow {
            AuthFlow::Password => {
                let params = [("USERNAME", username), ("PASSWORD", password.expose_secret())];
                let out =
                    self.initiate(AuthFlowType::UserPasswordAuth, &params, Some(username), "InitiateAuth").await?;
                self.outcome(
                    username,
                    out.authentication_result(),
                    out.challenge_name(),
                    out.session(),
                    out.challenge_parameters(),
                    None,
                )
            }
            AuthFlow::Srp => {
                let srp = SrpClient::from_os_rng(&self.config.user_pool_id)?;
                let srp_a = srp.srp_a();
                let params = [("USERNAME", username), ("SRP_A", srp_a.as_str())];
                let out = self.initiate(AuthFlowType::UserSrpAuth, &params, Some(username), "InitiateAuth").await?;
                if out.challenge_name() != Some(&ChallengeNameType::PasswordVerifier) {
                    return self.outcome(
                        username,
                        out.authentication_result(),
                        out.challenge_name(),
                        out.session(),
                        out.challenge_parameters(),
                        None,
                    );
                }
                let params = out.challenge_parameters().cloned().unwrap_or_default();
                let get = |k: &str| {
                    params
                        .get(k)
                        .cloned()
                        .ok_or_else(|| CognitoError::Srp(format!("PASSWORD_VERIFIER challenge lacks {k}")))
                };
                let user_id = get("USER_ID_FOR_SRP")?;
                let internal_username = params.get("USERNAME").cloned().unwrap_or_else(|| username.to_owned());
                let secret_block = get("SECRET_BLOCK")?;
                let key = srp.authentication_key(&user_id, password.expose_secret(), &get("SRP_B")?, &get("SALT")?)?;
                let timestamp = cognito_timestamp(self.clock.now());
                let signature = srp.password_claim_signature(&key, &user_id, &secret_block, &timestamp)?;
                let mut req = self
                    .idp
                    .respond_to_auth_challenge()
                    .client_id(&self.config.app_client_id)
                    .challenge_name(ChallengeNameType::PasswordVerifier)
                    .challenge_responses("USERNAME", &internal_username)
                    .challenge_responses("PASSWORD_CLAIM_SECRET_BLOCK", &secret_block)
                    .challenge_responses("TIMESTAMP", &timestamp)
                    .challenge_responses("PASSWORD_CLAIM_SIGNATURE", signature)
                    .set_session(out.session().map(str::to_owned));
                if let Some(h) = self.secret_hash(&internal_username) {
                    req = req.challenge_responses("SECRET_HASH", h);
                }
                let out = req.send().await.map_err(map_err("RespondToAuthChallenge"))?;
                self.outcome(
                    &internal_username,
                    out.authentication_result(),
                    out.challenge_name(),
                    out.session(),
                    out.challenge_parameters(),
                    None,
                )
            }
        }
    }

    /// Answers a challenge; may yield tokens or the next challenge.
    pub async fn respond_to_challenge(
        &self,
        challenge: Challenge,
        answer: ChallengeAnswer,
    ) -> Result<AuthOutcome, CognitoError> {
        let username = challenge.username.clone();
        // MFA_SETUP: the app's first code verifies the new secret; the session that yields
        // answers the challenge
        let mut session = challenge.session.as_ref().map(|s| s.expose_secret().to_owned());
        if let (ChallengeName::MfaSetup, ChallengeAnswer::MfaCode(code)) = (&challenge.name, &answer) {
            if challenge.totp.is_none() {
                return Err(CognitoError::Invalid(
                    "MFA_SETUP needs associate_software_token first (the secret for the authenticator app)".into(),
                ));
            }
            session = self.verify_software_token(&challenge, code).await?.or(session);
        }
        let mut req = self
            .idp
            .respond_to_auth_challenge()
            .client_id(&self.config.app_client_id)
            .challenge_name(ChallengeNameType::from(challenge.name.as_str()))
            .challenge_responses("USERNAME", &username)
            .set_session(session);
        match (&challenge.name, &answer) {
            (ChallengeName::NewPasswordRequired, ChallengeAnswer::NewPassword { password, attributes }) => {
                req = req.challenge_responses("NEW_PASSWORD", password.expose_secret());
                for (k, v) in attributes {
                    req = req.challenge_responses(format!("userAttributes.{k}"), v);
                }
            }
            (ChallengeName::SmsMfa, ChallengeAnswer::MfaCode(code)) => {
                req = req.challenge_responses("SMS_MFA_CODE", code)
            }
            (ChallengeName::SoftwareTokenMfa, ChallengeAnswer::MfaCode(code)) => {
                req = req.challenge_responses("SOFTWARE_TOKEN_MFA_CODE", code);
            }
            (ChallengeName::SelectMfaType, ChallengeAnswer::SelectMfaType(kind)) => {
                req = req.challenge_responses("ANSWER", kind);
            }
            (ChallengeName::CustomChallenge, ChallengeAnswer::Custom(answer)) => {
                req = req.challenge_responses("ANSWER", answer.expose_secret());
            }
            (ChallengeName::MfaSetup, ChallengeAnswer::MfaCode(_)) => {}
            (name, answer) => {
                return Err(CognitoError::Invalid(format!(
                    "{answer:?} does not answer the {} challenge",
                    name.as_str()
                )));
            }
        }
        if let Some(h) = self.secret_hash(&username) {
            req = req.challenge_responses("SECRET_HASH", h);
        }
        let out = req.send().await.map_err(map_err("RespondToAuthChallenge"))?;
        self.outcome(
            &username,
            out.authentication_result(),
            out.challenge_name(),
            out.session(),
            out.challenge_parameters(),
            None,
        )
    }

    /// `InitiateAuth` with `params`, adding SECRET_HASH for `hash_user` when the client has a secret.
    async fn initiate(
        &self,
        flow: AuthFlowType,
        params: &[(&str, &str)],
        hash_user: Option<&str>,
        what: &str,
    ) -> Result<InitiateAuthOutput, CognitoError> {
        let refresh = flow == AuthFlowType::RefreshTokenAuth;
        let mut req = self.idp.initiate_auth().auth_flow(flow).client_id(&self.config.app_client_id);
        for (k, v) in params {
            req = req.auth_parameters(*k, *v);
        }
        if let Some(h) = hash_user.and_then(|u| self.secret_hash(u)) {
            req = req.auth_parameters("SECRET_HASH", h);
        }
        if refresh {
            // A refresh grant is sent once: with refresh-token rotation on, a copy that
            // reached Cognito before a reset or timeout has already spent the token.
            return req
                .customize()
                .config_override(idp::config::Builder::default().retry_config(RetryConfig::disabled()))
                .send()
                .await
                .map_err(map_err(what));
        }
        req.send().await.map_err(map_err(what))
    }

    fn outcome(
        &self,
        username: &str,
        result: Option<&AuthenticationResultType>,
        challenge: Option<&ChallengeNameType>,
        session: Option<&str>,
        parameters: Option<&HashMap<String, String>>,
        keep_refresh: Option<&SecretString>,
    ) -> Result<AuthOutcome, CognitoError> {
        if let Some(r) = result {
            return Ok(AuthOutcome::Tokens(self.tokens(r, keep_refresh)?));
        }
        let Some(name) = challenge else {
            return Err(CognitoError::Invalid("Cognito answered with neither tokens nor a challenge".into()));
        };
        let parameters = parameters.cloned().unwrap_or_default();
        let username = parameters
            .get("USER_ID_FOR_SRP")
            .or_else(|| parameters.get("USERNAME"))
            .cloned()
            .unwrap_or_else(|| username.to_owned());
        Ok(AuthOutcome::Challenge(Challenge {
            name: ChallengeName::parse(name.as_str()),
            parameters,
            username,
            session: session.map(|s| SecretString::from(s.to_owned())),
            totp: None,
        }))
    }

    fn tokens(
        &self,
        r: &AuthenticationResultType,
        keep_refresh: Option<&SecretString>,
    ) -> Result<TokenSet, CognitoError> {
        let secret = |s: Option<&str>| s.map(|v| SecretString::from(v.to_owned()));
        if r.access_token().is_none() {
            return Err(CognitoError::Invalid("authentication result without an access token".into()));
        }
        let expires_in = u64::try_from(r.expires_in()).unwrap_or(0);
        Ok(TokenSet {
            access_token: secret(r.access_token()),
            id_token: secret(r.id_token()),
            refresh_token: secret(r.refresh_token())
                .or_else(|| keep_refresh.map(|k| SecretString::from(k.expose_secret().to_owned()))),
            token_type: r.token_type().map(str::to_owned),
            scopes: Vec::new(),
            expires_at: (expires_in > 0).then(|| self.clock.now() + Duration::from_secs(expires_in)),
        })
    }

    /// New tokens from a refresh token (`REFRESH_TOKEN_AUTH`). With a client secret the
    /// SECRET_HASH needs the username: pass it (Cognito's `sub` or the sign-in name).
    pub async fn refresh_credentials(
        &self,
        refresh_token: &SecretString,
        username: Option<&str>,
    ) -> Result<TokenSet, CognitoError> {
        // with a client secret, SECRET_HASH needs the username
        let hash_user = match (&self.config.app_client_secret, username) {
            (None, _) => None,
            (Some(_), Some(u)) => Some(u),
            (Some(_), None) => {
                return Err(CognitoError::Config(
                    "this app client has a secret: refreshing needs the username for SECRET_HASH".into(),
                ));
            }
        };
        let params = [("REFRESH_TOKEN", refresh_token.expose_secret())];
        let out = self
            .initiate(AuthFlowType::RefreshTokenAuth, &params, hash_user, "InitiateAuth(REFRESH_TOKEN_AUTH)")
            .await?;
        self.outcome(
            username.unwrap_or_default(),
            out.authentication_result(),
            out.challenge_name(),
            out.session(),
            out.challenge_parameters(),
            Some(refresh_token),
        )?
        .into_tokens()
    }

    /// AWS credentials for a signed-in user through the identity pool (`GetId` +
    /// `GetCredentialsForIdentity`).
    pub async fn get_aws_credentials(&self, id_token: &SecretString) -> Result<AwsCredentials, CognitoError> {
        let provider = self.config.login_provider();
        let identity_id = self.identity_id(id_token).await?;
        let identity_id = identity_id.as_str();
        let out = self
            .identity
            .get_credentials_for_identity()
            .identity_id(identity_id)
            .logins(&provider, id_token.expose_secret())
            .send()
            .await
            .map_err(map_err("GetCredentialsForIdentity"))?;
        let c = out
            .credentials()
            .ok_or_else(|| CognitoError::Invalid("GetCredentialsForIdentity returned no credentials".into()))?;
        let (Some(key), Some(secret)) = (c.access_key_id(), c.secret_key()) else {
            return Err(CognitoError::Invalid("identity credentials lack a key id or secret".into()));
        };
        let expiry = c.expiration().and_then(|t| std::time::SystemTime::try_from(*t).ok());
        Ok(AwsCredentials::new(key, secret, c.session_token().map(str::to_owned), expiry))
    }

    /// The user's identity in the identity pool (`GetId`): the same for every sign-in of the
    /// same user, and what CloudTrail records (`webIdFederationData`, the
    /// `cognito-identity.amazonaws.com:sub` attribute) for calls made with its credentials.
    pub async fn identity_id(&self, id_token: &SecretString) -> Result<String, CognitoError> {
        let pool =
            self.config.identity_pool_id.as_deref().ok_or_else(|| {
                CognitoError::Config("no identity_pool_id configured; AWS credentials need one".into())
            })?;
        let id = self
            .identity
            .get_id()
            .identity_pool_id(pool)
            .logins(self.config.login_provider(), id_token.expose_secret())
            .send()
            .await
            .map_err(map_err("GetId"))?;
        id.identity_id().map(str::to_owned).ok_or_else(|| CognitoError::Invalid("GetId returned no identity id".into()))
    }

    /// Signs the user out everywhere (`GlobalSignOut`): every refresh token stops working.
    pub async fn sign_out(&self, access_token: &SecretString) -> Result<(), CognitoError> {
        self.idp
            .global_sign_out()
            .access_token(access_token.expose_secret())
            .send()
            .await
            .map_err(map_err("GlobalSignOut"))?;
        Ok(())
    }

    /// Revokes a refresh token (`RevokeToken`). Not every endpoint implements it.
    pub async fn revoke_token(&self, refresh_token: &SecretString) -> Result<(), CognitoError> {
        let mut req =
            self.idp.revoke_token().token(refresh_token.expose_secret()).client_id(&self.config.app_client_id);
        if let Some(s) = &self.config.app_client_secret {
            req = req.client_secret(s.expose_secret());
        }
        req.send().await.map_err(map_err("RevokeToken"))?;
        Ok(())
    }
}
