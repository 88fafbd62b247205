//! Answers three questions about a signed-in AWS user: what they did, what they own, what they may do.
//!
//! Not implemented yet: see README.md for what this crate will own.
