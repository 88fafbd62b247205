//! Cognito's SRP-6a variant (`USER_SRP_AUTH`), written once, small, and cross-checked against
//! pycognito with fixed random values (tests/tests/suite/cognito_srp.rs).
//!
//! Why not a crate: `aws-cognito-srp` draws `a` from the OS RNG and reads the system clock
//! inside, so neither can be fixed for a cross-check, and it pulls chrono, regex and rand.
//!
//! The protocol, in pycognito's (and amazon-cognito-identity-js's) terms:
//! - `N` is the 3072-bit MODP group prime (RFC 3526), `g = 2`, `k = H(00 ‖ N ‖ 02)`;
//! - the client picks `a` (128 random bytes mod N) and sends `A = g^a mod N` as `SRP_A`;
//! - the server answers `SALT`, `SRP_B`, `SECRET_BLOCK`, `USER_ID_FOR_SRP`;
//! - `u = H(pad(A) ‖ pad(B))`, `x = H(pad(salt) ‖ H(poolname ‖ user ‖ ":" ‖ password))`,
//!   `S = (B − k·g^x)^(a + u·x) mod N`, key = HKDF-SHA256(salt = pad(u), ikm = pad(S),
//!   info = "Caldera Derived Key")[..16];
//! - `PASSWORD_CLAIM_SIGNATURE = base64(HMAC-SHA256(key, poolname ‖ user ‖ secret_block ‖ timestamp))`.
//!
//! `pad` is the big-endian bytes, with a leading zero byte when the top bit is set (a
//! positive two's-complement encoding), which is what pycognito's hex padding amounts to.
//!
//! The arithmetic is crypto-bigint's, in Montgomery form: every exponentiation with a secret
//! exponent (`a`, the password-derived `x`, and `a + u·x`) runs in time that depends on the
//! exponent's bit length bound only (known from the protocol), never on its value.

use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{Odd, U256, U3072, U4096};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use zeroize::Zeroize;

use rand_core::TryCryptoRng;

use crate::error::CognitoError;

/// The group's prime `N` (RFC 3526's 3072-bit MODP group, Cognito's), in hex; `g` is 2.
pub const N_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD",
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F",
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510",
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C",
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
);

type HmacSha256 = Hmac<Sha256>;

const LIMBS: usize = U3072::LIMBS;
const WIDE: usize = U4096::LIMBS;
type Monty = FixedMontyForm<LIMBS>;

/// `N`, checked odd when the crate is compiled.
const N: Odd<U3072> = Odd::<U3072>::from_be_hex(N_HEX);

/// Montgomery parameters of `N` (public, so computed in variable time, once).
fn params() -> &'static FixedMontyParams<LIMBS> {
    static PARAMS: std::sync::LazyLock<FixedMontyParams<LIMBS>> =
        std::sync::LazyLock::new(|| FixedMontyParams::new_vartime(N));
    &PARAMS
}

/// Big-endian bytes without leading zeros (at least one byte).
fn trimmed(v: &U3072) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let bytes: &[u8] = bytes.as_ref();
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len() - 1);
    bytes[first..].to_vec()
}

/// Big-endian bytes with a leading zero when the top bit is set (pycognito's `pad_hex`).
fn pad(v: &U3072) -> Vec<u8> {
    let mut bytes = trimmed(v);
    if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        bytes.insert(0, 0);
    }
    bytes
}

/// A number of at most 3072 bits from big-endian bytes (leading zeros allowed).
fn uint_from_be(bytes: &[u8]) -> Option<U3072> {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    let bytes = &bytes[start..];
    if bytes.len() > U3072::BYTES {
        return None;
    }
    let mut full = [0u8; U3072::BYTES];
    full[U3072::BYTES - bytes.len()..].copy_from_slice(bytes);
    let v = U3072::from_be_slice(&full);
    full.zeroize();
    Some(v)
}

/// Hex as the server sends it (any length, odd included).
fn hex_bytes(hex: &str) -> Option<Vec<u8>> {
    if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let padded = if hex.len() % 2 == 1 { format!("0{hex}") } else { hex.to_owned() };
    (0..padded.len()).step_by(2).map(|i| u8::from_str_radix(&padded[i..i + 2], 16).ok()).collect()
}

/// pycognito's `pad_hex` on a hex string as the server sent it (leading zeros kept): an
/// even-length string whose first digit has the high bit set gets a zero byte in front.
fn pad_hex_str(hex: &str) -> Result<Vec<u8>, CognitoError> {
    let mut bytes = hex_bytes(hex).ok_or_else(|| CognitoError::Srp("server sent a SALT that is not hex".into()))?;
    if hex.len().is_multiple_of(2) && bytes[0] & 0x80 != 0 {
        bytes.insert(0, 0);
    }
    Ok(bytes)
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable_hmac());
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

#[cold]
fn unreachable_hmac() -> HmacSha256 {
    // new_from_slice only fails for fixed-size keys; HMAC takes any size. Keep a defined value.
    <HmacSha256 as KeyInit>::new(&Default::default())
}

/// The client side of one SRP sign-in: the secret `a` and public `A`.
pub struct SrpClient {
    a: U3072,
    /// How many bits `a` may have (from the length it was drawn with, not its value).
    a_bits: u32,
    big_a: U3072,
    pool_name: String,
}

impl Drop for SrpClient {
    fn drop(&mut self) {
        self.a.zeroize();
    }
}

impl std::fmt::Debug for SrpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrpClient").field("pool_name", &self.pool_name).finish_non_exhaustive()
    }
}

impl SrpClient {
    /// A client for `user_pool_id` (`region_PoolName`) with a fresh random `a` drawn from
    /// `rng`, which must be a cryptographic generator: whoever can predict `a` from one
    /// observed sign-in can guess the password offline. Production code passes the OS
    /// generator ([`SrpClient::from_os_rng`]).
    pub fn new<R: TryCryptoRng + ?Sized>(user_pool_id: &str, rng: &mut R) -> Result<Self, CognitoError> {
        let mut bytes = [0u8; 128];
        rng.try_fill_bytes(&mut bytes)
            .map_err(|_| CognitoError::Srp("the system's random generator failed; try again".into()))?;
        let client = Self::with_a(user_pool_id, &bytes);
        bytes.fill(0);
        client
    }

    /// A client whose `a` comes from the operating system's generator (`getrandom`).
    pub fn from_os_rng(user_pool_id: &str) -> Result<Self, CognitoError> {
        Self::new(user_pool_id, &mut getrandom::SysRng)
    }

    /// A client with a given `a` (128 random bytes in pycognito): for cross-checks only.
    pub fn with_a(user_pool_id: &str, a_bytes: &[u8]) -> Result<Self, CognitoError> {
        let pool_name =
            user_pool_id.split_once('_').map(|(_, name)| name.to_owned()).filter(|n| !n.is_empty()).ok_or_else(
                || CognitoError::Config(format!("user pool id {user_pool_id:?} is not of the form REGION_NAME")),
            )?;
        let too_long = || CognitoError::Srp("a must be at most 384 bytes".into());
        let raw = uint_from_be(a_bytes).ok_or_else(too_long)?;
        // a mod N: a value below N is kept, one above (only possible with 384 bytes) reduced
        let a = Monty::new(&raw, params()).retrieve();
        let a_bits = (a_bytes.len() as u32 * 8).min(U3072::BITS);
        let big_a = Monty::new(&U3072::from_u8(2), params()).pow_bounded_exp(&a, a_bits).retrieve();
        if big_a.is_zero_vartime() {
            return Err(CognitoError::Srp("A = 0; pick another random a".into()));
        }
        Ok(Self { a, a_bits, big_a, pool_name })
    }

    /// `SRP_A` as Cognito wants it: lowercase hex without padding.
    pub fn srp_a(&self) -> String {
        trimmed(&self.big_a).iter().map(|b| format!("{b:02x}")).collect::<String>().trim_start_matches('0').to_owned()
    }

    /// The 16-byte password authentication key from the server's challenge.
    pub fn authentication_key(
        &self,
        user_id_for_srp: &str,
        password: &str,
        srp_b_hex: &str,
        salt_hex: &str,
    ) -> Result<[u8; 16], CognitoError> {
        let b = hex_bytes(srp_b_hex)
            .and_then(|bytes| uint_from_be(&bytes))
            .ok_or_else(|| CognitoError::Srp("server sent an SRP_B that is not hex of at most 3072 bits".into()))?;
        let params = params();
        let b_mod_n = Monty::new(&b, params);
        if b_mod_n.retrieve().is_zero_vartime() {
            return Err(CognitoError::Srp("server sent SRP_B = 0 mod N; refusing (possible attack)".into()));
        }
        let salt = pad_hex_str(salt_hex)?;
        let u = U256::from_be_slice(&sha256(&[&pad(&self.big_a), &pad(&b)]));
        if u.is_zero_vartime() {
            return Err(CognitoError::Srp("u = 0; sign in again".into()));
        }
        let k = U256::from_be_slice(&sha256(&[&pad(&N), &[2u8]]));
        let mut identity = sha256(&[self.pool_name.as_bytes(), user_id_for_srp.as_bytes(), b":", password.as_bytes()]);
        let mut x = U256::from_be_slice(&sha256(&[&salt, &identity]));
        identity.zeroize();
        // S = (B - k * g^x)^(a + u*x) mod N, every power in constant time for its bound
        let g_x = Monty::new(&U3072::from_u8(2), params).pow_bounded_exp(&x, U256::BITS);
        let base = b_mod_n - Monty::new(&k.resize::<LIMBS>(), params) * g_x;
        let mut exponent = self.a.resize::<WIDE>().wrapping_add(&u.resize::<WIDE>().wrapping_mul(&x.resize::<WIDE>()));
        x.zeroize();
        let bound = self.a_bits.max(2 * U256::BITS) + 1;
        let mut s = base.pow_bounded_exp(&exponent, bound).retrieve();
        exponent.zeroize();
        let u = u.resize::<LIMBS>();
        let mut padded_s = pad(&s);
        s.zeroize();
        let prk = hmac(&pad(&u), &[&padded_s]);
        padded_s.zeroize();
        let okm = hmac(&prk, &[b"Caldera Derived Key", &[1u8]]);
        let mut key = [0u8; 16];
        key.copy_from_slice(&okm[..16]);
        Ok(key)
    }

    /// `PASSWORD_CLAIM_SIGNATURE` for the challenge at `timestamp` (see [`cognito_timestamp`]).
    pub fn password_claim_signature(
        &self,
        key: &[u8; 16],
        user_id_for_srp: &str,
        secret_block_b64: &str,
        timestamp: &str,
    ) -> Result<String, CognitoError> {
        // Like Python's b64decode (what pycognito and boto-based clients use), characters
        // outside the base64 alphabet are skipped before decoding.
        let filtered: String =
            secret_block_b64.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')).collect();
        let secret_block = B64
            .decode(filtered)
            .map_err(|_| CognitoError::Srp("server sent a SECRET_BLOCK that is not base64".into()))?;
        let sig =
            hmac(key, &[self.pool_name.as_bytes(), user_id_for_srp.as_bytes(), &secret_block, timestamp.as_bytes()]);
        Ok(B64.encode(sig))
    }
}

/// The timestamp Cognito signs, e.g. `Mon Jan 5 09:03:07 UTC 2026` (day not zero-padded).
pub fn cognito_timestamp(t: SystemTime) -> String {
    let dt = OffsetDateTime::from(t);
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{} {} {} {:02}:{:02}:{:02} UTC {}",
        DAYS[dt.weekday().number_days_from_monday() as usize],
        MONTHS[dt.month() as usize - 1],
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.year()
    )
}

/// `SECRET_HASH` = base64(HMAC-SHA256(client_secret, username ‖ client_id)).
pub fn secret_hash(username: &str, client_id: &str, client_secret: &str) -> String {
    B64.encode(hmac(client_secret.as_bytes(), &[username.as_bytes(), client_id.as_bytes()]))
}

/// What bounds the SRP client's speed, for `cargo xtask bench` (not an API to build on): the
/// time of one constant-time power mod `N` with a 1025-bit exponent — what
/// `S = (B - k·g^x)^(a + u·x)` costs with a 1024-bit `a`, as pycognito's; `A = g^a` is another
/// of the same bound — and of one 3072-bit Montgomery multiplication, averaged over `n` powers.
#[doc(hidden)]
pub fn power_floor(n: u32) -> (std::time::Duration, std::time::Duration) {
    let params = params();
    let base = Monty::new(&U3072::from_be_hex(&"5a".repeat(U3072::BYTES)), params);
    let exponent = U4096::from_be_hex(&format!("{}{}", "0".repeat(2 * (U4096::BYTES - 128)), "c3".repeat(128)));
    let n = n.max(1);
    let start = std::time::Instant::now();
    let mut acc = base;
    for _ in 0..n {
        acc = std::hint::black_box(base.pow_bounded_exp(&exponent, 1025));
    }
    let pow = start.elapsed() / n;
    let muls = 20_000u32;
    let start = std::time::Instant::now();
    for _ in 0..muls {
        acc = std::hint::black_box(acc * base);
    }
    let mul = start.elapsed() / muls;
    std::hint::black_box(acc);
    (pow, mul)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamp_format_matches_cognito() {
        // 2026-01-05T09:03:07Z is a Monday
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_603_787);
        assert_eq!(cognito_timestamp(t), "Mon Jan 5 09:03:07 UTC 2026");
    }

    #[test]
    fn salt_padding_keeps_leading_zeros_like_pycognito() {
        assert_eq!(pad_hex_str("00ab").unwrap(), vec![0x00, 0xab]);
        assert_eq!(pad_hex_str("abc").unwrap(), vec![0x0a, 0xbc]);
        assert_eq!(pad_hex_str("ab").unwrap(), vec![0x00, 0xab]);
        assert!(pad_hex_str("").is_err() && pad_hex_str("xy").is_err());
    }

    #[test]
    fn pad_adds_a_zero_only_for_high_bit() {
        assert_eq!(pad(&U3072::from_u8(0x7f)), vec![0x7f]);
        assert_eq!(pad(&U3072::from_u8(0x80)), vec![0x00, 0x80]);
        assert_eq!(pad(&U3072::ZERO), vec![0x00]);
        assert_eq!(uint_from_be(&[0, 0, 1]), Some(U3072::ONE));
        assert_eq!(uint_from_be(&[1; 385]), None);
    }

    #[test]
    fn bad_inputs_are_errors_not_panics() {
        assert!(SrpClient::with_a("nopool", &[1]).is_err());
        let c = SrpClient::with_a("us-east-1_abc", &[7; 128]).unwrap();
        assert!(c.authentication_key("u", "p", "zz", "00").is_err());
        assert!(c.authentication_key("u", "p", "0", "00").is_err());
        let key = c.authentication_key("u", "p", "abcdef", "1234").unwrap();
        assert!(c.password_claim_signature(&key, "u", "abc", "t").is_err());
        assert!(c.password_claim_signature(&key, "u", "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed", "t").is_ok());
        assert!(!format!("{c:?}").contains(&c.srp_a()));
    }

    /// A generator that fails, as `getrandom` may on a system without entropy.
    struct Broken;
    impl rand_core::TryRng for Broken {
        type Error = std::fmt::Error;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Err(std::fmt::Error)
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            Err(std::fmt::Error)
        }
        fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), Self::Error> {
            Err(std::fmt::Error)
        }
    }
    impl TryCryptoRng for Broken {}

    #[test]
    fn a_comes_from_the_given_cryptographic_generator() {
        let one = SrpClient::from_os_rng("us-east-1_abc").unwrap();
        let two = SrpClient::from_os_rng("us-east-1_abc").unwrap();
        assert_ne!(one.srp_a(), two.srp_a(), "two sign-ins must not share a");
        assert!(matches!(SrpClient::new("us-east-1_abc", &mut Broken), Err(CognitoError::Srp(_))));
    }

    #[test]
    fn secret_hash_known_answer() {
        // HMAC-SHA256 RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
        assert_eq!(
            secret_hash("what do ya want ", "for nothing?", "Jefe"),
            "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="
        );
    }
}
