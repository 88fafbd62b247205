//! The account steps around a sign-in: sign-up and its confirmation, a forgotten password,
//! and setting up an authenticator app when the pool requires MFA (`MFA_SETUP`).

use core_types::{ExposeSecret, SecretString};

use crate::auth::{Challenge, CognitoAuthenticator, TotpSetup, map_err};
use crate::error::CognitoError;

/// What a sign-up did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignUp {
    /// Whether the account is usable now (else a code was sent to confirm it).
    pub confirmed: bool,
    /// Where the confirmation code went (`e***@example.com`), when Cognito says.
    pub code_sent_to: Option<String>,
}

/// RFC 3986's unreserved characters stay; everything else is percent-encoded (an otpauth URI's
/// label and issuer).
const COMPONENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

fn percent(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, COMPONENT).to_string()
}

impl CognitoAuthenticator {
    /// `SignUp`: creates the user with `attributes` (`email`, `name`, …).
    pub async fn sign_up(
        &self,
        username: &str,
        password: &SecretString,
        attributes: &[(String, String)],
    ) -> Result<SignUp, CognitoError> {
        let mut req = self
            .idp()
            .sign_up()
            .client_id(&self.config().app_client_id)
            .username(username)
            .password(password.expose_secret())
            .set_secret_hash(self.secret_hash(username));
        for (k, v) in attributes {
            req = req.user_attributes(
                aws_sdk_cognitoidentityprovider::types::AttributeType::builder()
                    .name(k)
                    .value(v)
                    .build()
                    .map_err(|e| CognitoError::Invalid(format!("attribute {k}: {e}")))?,
            );
        }
        let out = req.send().await.map_err(map_err("SignUp"))?;
        Ok(SignUp {
            confirmed: out.user_confirmed(),
            code_sent_to: out.code_delivery_details().and_then(|d| d.destination()).map(str::to_owned),
        })
    }

    /// `ConfirmSignUp` with the code sent at sign-up.
    pub async fn confirm_sign_up(&self, username: &str, code: &str) -> Result<(), CognitoError> {
        self.idp()
            .confirm_sign_up()
            .client_id(&self.config().app_client_id)
            .username(username)
            .confirmation_code(code)
            .set_secret_hash(self.secret_hash(username))
            .send()
            .await
            .map_err(map_err("ConfirmSignUp"))?;
        Ok(())
    }

    /// `ForgotPassword`: Cognito sends a code; returns where it went, when it says.
    pub async fn forgot_password(&self, username: &str) -> Result<Option<String>, CognitoError> {
        let out = self
            .idp()
            .forgot_password()
            .client_id(&self.config().app_client_id)
            .username(username)
            .set_secret_hash(self.secret_hash(username))
            .send()
            .await
            .map_err(map_err("ForgotPassword"))?;
        Ok(out.code_delivery_details().and_then(|d| d.destination()).map(str::to_owned))
    }

    /// `ConfirmForgotPassword`: the code and the new password.
    pub async fn confirm_forgot_password(
        &self,
        username: &str,
        code: &str,
        password: &SecretString,
    ) -> Result<(), CognitoError> {
        self.idp()
            .confirm_forgot_password()
            .client_id(&self.config().app_client_id)
            .username(username)
            .confirmation_code(code)
            .password(password.expose_secret())
            .set_secret_hash(self.secret_hash(username))
            .send()
            .await
            .map_err(map_err("ConfirmForgotPassword"))?;
        Ok(())
    }

    /// `AssociateSoftwareToken` for an `MFA_SETUP` challenge: the secret for an authenticator
    /// app (also kept on the challenge, see [`Challenge::totp_setup`]); answer the challenge
    /// with the app's first code.
    pub async fn associate_software_token(&self, challenge: &mut Challenge) -> Result<TotpSetup, CognitoError> {
        let out = self
            .idp()
            .associate_software_token()
            .set_session(challenge.session().map(|s| s.expose_secret().to_owned()))
            .send()
            .await
            .map_err(map_err("AssociateSoftwareToken"))?;
        let secret = out
            .secret_code()
            .ok_or_else(|| CognitoError::Invalid("AssociateSoftwareToken returned no secret".into()))?;
        let issuer = format!("Cognito {}", self.config().user_pool_id);
        let uri = format!(
            "otpauth://totp/{}:{}?secret={secret}&issuer={}",
            percent(&issuer),
            percent(challenge.username()),
            percent(&issuer)
        );
        let setup = TotpSetup { secret: SecretString::from(secret.to_owned()), uri: SecretString::from(uri) };
        challenge.set_setup(out.session().map(|s| SecretString::from(s.to_owned())), setup.clone());
        Ok(setup)
    }

    /// `VerifySoftwareToken` with the app's first code; returns the session to answer
    /// `MFA_SETUP` with.
    pub(crate) async fn verify_software_token(
        &self,
        challenge: &Challenge,
        code: &str,
    ) -> Result<Option<String>, CognitoError> {
        let out = self
            .idp()
            .verify_software_token()
            .set_session(challenge.session().map(|s| s.expose_secret().to_owned()))
            .user_code(code)
            .friendly_device_name("ccc")
            .send()
            .await
            .map_err(map_err("VerifySoftwareToken"))?;
        Ok(out.session().map(str::to_owned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setup_never_shows_its_secret() {
        let s = TotpSetup {
            secret: SecretString::from("JBSWY3DPEHPK3PXP".to_owned()),
            uri: SecretString::from("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP".to_owned()),
        };
        assert!(!format!("{s:?}").contains("JBSWY"));
        assert_eq!(percent("Cognito us-east-1_a:b@c"), "Cognito%20us-east-1_a%3Ab%40c");
    }
}
