//! SRP must be provably right: our SRP_A, TIMESTAMP and PASSWORD_CLAIM_SIGNATURE equal what
//! pycognito (from the peers venv) computes for the same fixed random `a`, salt, B, secret
//! block, user, password and time. The vectors are generated here and computed by pycognito
//! at test time, never pasted.

use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use base64::Engine;
use ccc_tests::peer;
use cognito_auth::srp::{SrpClient, cognito_timestamp, secret_hash};

const PYCOGNITO: &str = r#"
import json, sys, types, datetime
import pycognito.aws_srp as m

out = []
for v in json.load(sys.stdin):
    fixed = datetime.datetime.utcfromtimestamp(v["unix"])
    class Fixed(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return fixed
    m.datetime = types.SimpleNamespace(datetime=Fixed, timezone=datetime.timezone)
    srp = m.AWSSRP(v["username"], v["password"], v["pool_id"], "client-id", pool_region="us-east-1",
                   client_secret=v["client_secret"])
    srp.small_a_value = int(v["a_hex"], 16) % srp.big_n
    srp.large_a_value = srp.calculate_a()
    resp = srp.process_challenge(
        {"USER_ID_FOR_SRP": v["user_id"], "SALT": v["salt"], "SRP_B": v["srp_b"],
         "SECRET_BLOCK": v["secret_block"], "USERNAME": v["username"]},
        {"USERNAME": v["username"]})
    out.append({"srp_a": srp.get_auth_params()["SRP_A"], "timestamp": resp["TIMESTAMP"],
                "signature": resp["PASSWORD_CLAIM_SIGNATURE"], "secret_hash": resp.get("SECRET_HASH")})
print(json.dumps(out))
"#;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn srp_matches_pycognito_on_random_vectors() {
    let mut rng = fastrand::Rng::with_seed(0x5eed_c0de);
    let mut vectors = Vec::new();
    for i in 0..24 {
        let a: Vec<u8> = (0..128).map(|_| rng.u8(..)).collect();
        // a salt with a leading zero byte every few vectors: padding must match exactly
        let mut salt: Vec<u8> = (0..16).map(|_| rng.u8(..)).collect();
        if i % 4 == 0 {
            salt[0] = 0;
        }
        let b: Vec<u8> = (0..384).map(|_| rng.u8(..)).collect();
        let block: Vec<u8> = (0..rng.usize(16..200)).map(|_| rng.u8(..)).collect();
        let unix = 1_700_000_000 + rng.u64(0..200_000_000);
        let password: String = (0..rng.usize(8..30)).map(|_| rng.alphanumeric()).collect::<String>() + "!é";
        vectors.push(serde_json::json!({
            "a_hex": hex(&a),
            "salt": hex(&salt),
            "srp_b": hex(&b).trim_start_matches('0'),
            "secret_block": base64::engine::general_purpose::STANDARD.encode(&block),
            "unix": unix,
            "username": format!("user{i}@example.com"),
            "user_id": format!("{:08x}-0000-4000-8000-{:012x}", rng.u32(..), rng.u64(..1 << 48)),
            "password": password,
            "pool_id": format!("us-east-1_Pool{i}X"),
            "client_secret": if i % 3 == 0 { serde_json::Value::from(format!("secret{i}")) } else { serde_json::Value::Null },
        }));
    }

    let mut child = Command::new(peer("CCC_TEST_PYTHON"))
        .args(["-c", PYCOGNITO])
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pycognito");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(serde_json::Value::from(vectors.clone()).to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "pycognito failed: {}", String::from_utf8_lossy(&out.stderr));
    let expected: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(expected.len(), vectors.len());

    for (v, want) in vectors.iter().zip(&expected) {
        let s = |k: &str| v[k].as_str().unwrap().to_owned();
        let a_bytes: Vec<u8> =
            (0..256).step_by(2).map(|i| u8::from_str_radix(&s("a_hex")[i..i + 2], 16).unwrap()).collect();
        let client = SrpClient::with_a(&s("pool_id"), &a_bytes).unwrap();
        assert_eq!(client.srp_a(), want["srp_a"].as_str().unwrap(), "SRP_A for {}", s("username"));
        let ts = cognito_timestamp(SystemTime::UNIX_EPOCH + Duration::from_secs(v["unix"].as_u64().unwrap()));
        assert_eq!(ts, want["timestamp"].as_str().unwrap());
        let key = client.authentication_key(&s("user_id"), &s("password"), &s("srp_b"), &s("salt")).unwrap();
        let sig = client.password_claim_signature(&key, &s("user_id"), &s("secret_block"), &ts).unwrap();
        assert_eq!(sig, want["signature"].as_str().unwrap(), "PASSWORD_CLAIM_SIGNATURE for {}", s("username"));
        if let Some(secret) = v["client_secret"].as_str() {
            assert_eq!(secret_hash(&s("username"), "client-id", secret), want["secret_hash"].as_str().unwrap());
        }
    }
}
