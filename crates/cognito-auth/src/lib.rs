//! Amazon Cognito user-pool sign-in (SRP and password), challenges, identity-pool credentials and JWT verification.
//!
//! Not implemented yet: see README.md for what this crate will own.
