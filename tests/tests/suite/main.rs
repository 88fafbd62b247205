//! The integration suite against the real peers, as one test binary: every module links the
//! same AWS SDKs, and one link instead of fourteen keeps CI's build time and disk use down.
//! nextest still runs each test in its own process (`module::test_name`).

mod azure;
mod bench;
mod cognito_moto;
mod cognito_srp;
mod conformance;
mod cred_store_peers;
mod engine;
mod faults;
mod fleet;
mod inspect;
mod judge;
mod negative;
mod oauth;
mod reliability;
mod seeds;
mod sessions;
mod smoke;
mod sso;
mod tidy;
