//! AWS and Azure sessions declared in YAML: references, auto-refresh, health, retry, rotation, access control.
//!
//! Not implemented yet: see README.md for what this crate will own.
