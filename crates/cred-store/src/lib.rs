#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

// Credentials stay private through POSIX file modes (0600/0700), owner checks on every path
// written through, and advisory locks: none of which Windows has in this form.
#[cfg(not(unix))]
compile_error!(
    "cred-store is Unix only (Linux, macOS, the BSDs): it keeps credentials private with POSIX \
     file modes, owner checks and advisory locks"
);

mod access_key;
#[cfg(any(feature = "keyring", feature = "team-store"))]
mod aead;
mod aws_files;
mod codec;
mod config;
pub mod doctor;
mod error;
pub mod fsutil;
mod ini;
#[cfg(feature = "ledger")]
mod ledger;
mod outcome;
mod paths;
pub mod plan;
mod process;
mod profiles;
mod redact;
mod refreshing;
#[cfg(feature = "aws-sdk")]
mod sdk;
#[cfg(feature = "keyring")]
mod sealing;
mod shared;
mod shlex;
mod sso_cache;
#[cfg(feature = "team-store")]
mod team;
mod timefmt;
mod token_key;
#[cfg(feature = "token-store")]
mod token_store;
pub mod warm;

pub use access_key::{KeyRotation, StoredKey};
pub use aws_files::{AwsFiles, EXPIRATION_KEY, Profile, SyncReport, config_section, validate_profile_name};
pub use config::{
    CccConfig, PROFILES_KEY, REFRESH_WINDOW_KEY, get_config_value, load_config, load_config_from, save_config,
    set_config_value, set_profile_setting,
};
pub use error::{Error, Result};
pub use ini::{IniDocument, ParseError};
#[cfg(feature = "ledger")]
pub use ledger::{Attempt, Backend, Ledger, LedgerEntry};
pub use outcome::Outcome;
pub use paths::Paths;
pub use plan::{Base, CredentialPlan, RoleHop, plan};
pub use process::{from_credential_process_json, to_credential_process_json};
pub use profiles::{ProfileSet, Settings};
pub use redact::redact_url;
pub use refreshing::{CacheCodec, DEFAULT_REFRESH_LOCK_WAIT, FLEET_RETRY_AFTER, Refreshing, RefreshingBuilder};
#[cfg(feature = "aws-sdk")]
pub use sdk::{SdkProviderSource, StaticSource, from_sdk_credentials, to_credentials_error, to_sdk_credentials};
pub use shared::{BoxFuture, FleetEntry, FleetHold, SharedEntry, entry_written_at};
pub use sso_cache::{SsoCache, SsoToken, cache_file_name};
#[cfg(feature = "team-store")]
pub use team::{TeamEntry, TeamEntryStatus, TeamKey, TeamStore};
pub use timefmt::{format_rfc3339, parse_rfc3339};
pub use token_key::TokenKey;
#[cfg(feature = "token-store")]
pub use token_store::{TokenEntry, TokenStore};
