pub mod configure;
pub mod creds;
pub mod inspect;
pub mod login;
pub mod sso;
