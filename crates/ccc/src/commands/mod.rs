pub mod configure;
pub mod creds;
pub mod login;
