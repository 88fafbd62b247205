//! An OAuth 2 / OIDC client on the `oauth2` crate, for command-line tools and services.
//!
//! - [`OAuthClient::discover`]: endpoints from `/.well-known/openid-configuration`;
//! - authorization code + PKCE (S256 only) with state and nonce:
//!   [`OAuthClient::authorization_url`] / [`OAuthClient::exchange_code`] (a state mismatch
//!   is refused before any request; the [`PkceVerifier`] is consumed);
//! - [`OAuthClient::login_with_loopback`]: the RFC 8252 loopback redirect for CLIs;
//! - [`OAuthClient::device_authorization`] + [`OAuthClient::poll_device_token`] (RFC 8628);
//! - [`OAuthClient::sign_in_with_password`], [`OAuthClient::sign_in_with_client`];
//! - [`OAuthClient::refresh`] (refresh token with rotation, or client credentials),
//!   [`OAuthClient::sign_out`] (RFC 7009 revocation), [`OAuthClient::introspect`];
//! - [`OAuthClient::validate_id_token`]; [`OAuthSession`]: single-flight refreshing.
//!
//! It stores nothing itself: token sets go back to the caller. An [`OAuthSession`] keeps
//! them in memory, or persists them through a [`SharedEntry`] (cred-store's file token
//! store, re-exported as [`TokenStore`] with the default `token-store` feature, or one the
//! caller implements), so every process shares one rotation chain.
#![warn(missing_docs)]

mod client;
mod code;
mod config;
mod device;
mod error;
mod grants;
mod http;
mod idtoken;
mod loopback;
mod revocation;
mod session;

pub use client::{IdTokenField, OAuthClient, token_set_from};
pub use code::{CsrfState, PkceVerifier};
pub use config::{Endpoints, OAuthConfig};
pub use cred_store::{FleetEntry, SharedEntry, TokenKey};
#[cfg(feature = "token-store")]
pub use cred_store::{TokenEntry, TokenStore};
pub use device::DeviceAuthorization;
pub use error::OAuthError;
pub use http::HttpError;
pub use idtoken::JWKS_REFETCH_INTERVAL;
pub use session::{OAuthSession, OAuthSource};
