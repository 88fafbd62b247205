//! Keeps AWS IAM Identity Center (SSO) credentials valid inside a refresh window, with retries and a ledger.
//!
//! Not implemented yet: see README.md for what this crate will own.
