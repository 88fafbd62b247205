//! An OAuth 2 / OIDC client: PKCE with state, loopback redirect, device flow, password, client credentials, refresh, revoke.
//!
//! Not implemented yet: see README.md for what this crate will own.
