//! Credential storage for the ccc toolkit: the only crate that touches files or databases.
//!
//! - [`Paths`]: every location, resolved once;
//! - [`IniDocument`]: lossless editing of `~/.aws/credentials` and `~/.aws/config`;
//! - [`fsutil`]: atomic, locked writes (0600 files, 0700 directories).

mod error;
pub mod fsutil;
mod ini;
mod paths;

pub use error::{Error, Result};
pub use ini::{IniDocument, ParseError};
pub use paths::Paths;
