#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
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
