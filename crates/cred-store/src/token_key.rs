//! The key of a stored token set: (provider, account or profile, user). Needed by anyone
//! naming tokens, whether or not they live in the token store (feature `token-store`).
// the encodings serve the token store (feature `token-store`)
#![cfg_attr(not(feature = "token-store"), allow(dead_code))]

/// What a stored token set belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenKey {
    /// `cognito`, `oauth`, `sso`, ...
    pub provider: String,
    /// The account, pool, issuer or profile.
    pub account: String,
    /// The user.
    pub user: String,
}

impl TokenKey {
    /// A key from its three parts.
    pub fn new(provider: impl Into<String>, account: impl Into<String>, user: impl Into<String>) -> Self {
        Self { provider: provider.into(), account: account.into(), user: user.into() }
    }

    pub(crate) fn encode(&self) -> String {
        // '\u{1f}' (unit separator) cannot appear in any sane provider, account or user name
        format!("{}\u{1f}{}\u{1f}{}", self.provider, self.account, self.user)
    }

    /// A field of this entry, readable in messages and bound into a sealed value (which then
    /// opens only there).
    pub(crate) fn slot(&self, field: &str) -> String {
        format!("{}|{}|{} {field}", self.provider, self.account, self.user)
    }

    pub(crate) fn decode(s: &str) -> Option<Self> {
        let mut parts = s.split('\u{1f}');
        let k = Self::new(parts.next()?, parts.next()?, parts.next()?);
        parts.next().is_none().then_some(k)
    }
}
