//! A Cognito user pool, app clients and identity pool in moto, for tests.

use std::time::SystemTime;

use aws_sdk_cognitoidentityprovider as idp;
use cognito_auth::{AuthFlow, AuthOutcome, CognitoAuthenticator, CognitoConfig, JwtVerifier};
use core_types::SecretString;

use crate::{moto_config, peer};

pub const PASSWORD: &str = "Corr3ct-Horse-Battery!";

/// A fresh pool with a public client, a client with a secret and an identity pool.
#[allow(missing_debug_implementations)]
pub struct Pool {
    pub pool_id: String,
    pub client_id: String,
    pub secret_client_id: String,
    pub client_secret: String,
    pub identity_pool_id: String,
    pub admin: idp::Client,
    pub sdk: aws_config::SdkConfig,
}

pub fn unique(prefix: &str) -> String {
    #[allow(clippy::disallowed_methods)]
    let n = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos();
    format!("{prefix}{}{}", std::process::id(), n % 1_000_000_000)
}

pub async fn pool() -> Pool {
    crate::leak::init();
    crate::leak::secret(PASSWORD);
    crate::leak::secret("Temp-Passw0rd!");
    let sdk = moto_config().await;
    let admin = idp::Client::new(&sdk);
    let created = admin.create_user_pool().pool_name(unique("ccc-test-pool")).send().await.unwrap();
    let pool_id = created.user_pool().unwrap().id().unwrap().to_owned();
    use idp::types::ExplicitAuthFlowsType as F;
    let flows = [F::AllowUserSrpAuth, F::AllowUserPasswordAuth, F::AllowRefreshTokenAuth];
    let client = admin
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("public")
        .set_explicit_auth_flows(Some(flows.to_vec()))
        .send()
        .await
        .unwrap();
    let client_id = client.user_pool_client().unwrap().client_id().unwrap().to_owned();
    let secret_client = admin
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("confidential")
        .generate_secret(true)
        .set_explicit_auth_flows(Some(flows.to_vec()))
        .send()
        .await
        .unwrap();
    let sc = secret_client.user_pool_client().unwrap();
    let identity = aws_sdk_cognitoidentity::Client::new(&sdk);
    let provider = aws_sdk_cognitoidentity::types::CognitoIdentityProvider::builder()
        .provider_name(format!("cognito-idp.us-east-1.amazonaws.com/{pool_id}"))
        .client_id(&client_id)
        .build();
    let ip = identity
        .create_identity_pool()
        .identity_pool_name(unique("ccc_test_identity"))
        .allow_unauthenticated_identities(false)
        .cognito_identity_providers(provider)
        .send()
        .await
        .unwrap();
    Pool {
        pool_id,
        client_id,
        secret_client_id: sc.client_id().unwrap().to_owned(),
        client_secret: {
            let secret = sc.client_secret().unwrap().to_owned();
            crate::leak::secret(&secret);
            secret
        },
        identity_pool_id: ip.identity_pool_id().to_owned(),
        admin,
        sdk,
    }
}

impl Pool {
    pub async fn user(&self, name: &str, confirmed: bool) {
        self.admin
            .admin_create_user()
            .user_pool_id(&self.pool_id)
            .username(name)
            .temporary_password("Temp-Passw0rd!")
            .message_action(idp::types::MessageActionType::Suppress)
            .send()
            .await
            .unwrap();
        if confirmed {
            self.admin
                .admin_set_user_password()
                .user_pool_id(&self.pool_id)
                .username(name)
                .password(PASSWORD)
                .permanent(true)
                .send()
                .await
                .unwrap();
        }
    }

    pub fn config(&self, flow: AuthFlow, with_secret: bool) -> CognitoConfig {
        let mut c = CognitoConfig::new(
            &self.pool_id,
            if with_secret { &self.secret_client_id } else { &self.client_id },
            "us-east-1",
        );
        c.identity_pool_id = Some(self.identity_pool_id.clone());
        c.auth_flow = flow;
        if with_secret {
            c.app_client_secret = Some(SecretString::from(self.client_secret.clone()));
        }
        c
    }

    pub fn auth(&self, flow: AuthFlow, with_secret: bool) -> CognitoAuthenticator {
        CognitoAuthenticator::new(self.config(flow, with_secret), &self.sdk)
    }

    /// [`Pool::auth`] through `endpoint` (the verifying judge, which hands the pool's calls to
    /// the Cognito peer and mints the identity credentials it then verifies).
    pub fn auth_at(&self, flow: AuthFlow, with_secret: bool, endpoint: &str) -> CognitoAuthenticator {
        let sdk = self.sdk.to_builder().endpoint_url(endpoint).build();
        CognitoAuthenticator::new(self.config(flow, with_secret), &sdk)
    }

    pub fn verifier(&self) -> JwtVerifier {
        JwtVerifier::new(&self.config(AuthFlow::Srp, false)).with_jwks_url(format!(
            "{}/{}/.well-known/jwks.json",
            peer("CCC_TEST_AWS_ENDPOINT"),
            self.pool_id
        ))
    }
}

/// Signs `user` in with [`PASSWORD`], expecting tokens (no challenge).
pub async fn sign_in(auth: &CognitoAuthenticator, user: &str) -> core_types::TokenSet {
    match auth.authenticate(user, &SecretString::from(PASSWORD.to_owned())).await.expect("sign-in") {
        AuthOutcome::Tokens(t) => {
            crate::leak::tokens(&t);
            t
        }
        AuthOutcome::Challenge(c) => panic!("unexpected challenge {c:?}"),
    }
}
