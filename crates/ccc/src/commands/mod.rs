pub mod configure;
pub mod creds;
pub mod exec;
pub mod inspect;
pub mod login;
pub mod oauth;
pub mod sessions;
pub mod sso;
