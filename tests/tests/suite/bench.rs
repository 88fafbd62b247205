//! Measurements for `cargo xtask bench` (ignored in the normal suite: they report numbers,
//! they do not pass or fail on speed). Each prints one `bench: name key=value ...` line.
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_inspect::{ResourceOptions, list_user_resources};
use ccc_tests::cognito::{PASSWORD, pool};
use ccc_tests::front::{Fault, Front};
use ccc_tests::peer;
use cognito_auth::AuthFlow;
use cognito_auth::srp::{SrpClient, cognito_timestamp};
use core_types::SecretString;

#[allow(clippy::disallowed_methods)] // benchmark knobs come from the environment
fn quick() -> bool {
    std::env::var("CCC_BENCH_QUICK").is_ok()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by cargo xtask bench"]
async fn bench_multi_region_scan() {
    let regions: Vec<String> = aws_inspect::DEFAULT_REGIONS.iter().map(|r| (*r).to_owned()).collect();
    // the scan's speed, not a credential, is measured: the lenient moto
    let front = Front::start_lenient().await;
    for r in &regions {
        front.inject("tagging:GetResources", Some(r), 1000, Fault::Delay(Duration::from_millis(200)));
    }
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&front.url)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sts::config::Credentials::new("AKIAIOSFODNN7EXAMPLE", "x", None, None, "bench"))
        .load()
        .await;
    let run = |regions: Vec<String>, concurrency: usize| {
        let config = config.clone();
        async move {
            let options =
                ResourceOptions::default().regions(regions).concurrency(concurrency).owner_tag_keys(["Owner"]);
            let start = Instant::now();
            let r = list_user_resources(&config, "bench-user", 100, false, &options).await.unwrap();
            assert!(r.failed_regions.is_empty(), "{:?}", r.failed_regions);
            start.elapsed()
        }
    };
    let rounds = if quick() { 1 } else { 3 };
    let mut one = Vec::new();
    let mut parallel = Vec::new();
    let mut serial = Vec::new();
    for _ in 0..rounds {
        one.push(run(vec!["us-east-1".into()], 16).await);
        parallel.push(run(regions.clone(), 16).await);
        serial.push(run(regions.clone(), 1).await);
    }
    let (one, parallel, serial) = (median(one), median(parallel), median(serial));
    println!(
        "bench: multi_region regions={} delay_ms=200 one_ms={} parallel_ms={} serial_ms={} ratio_parallel_to_one={:.2} ratio_serial_to_parallel={:.1}",
        regions.len(),
        one.as_millis(),
        parallel.as_millis(),
        serial.as_millis(),
        parallel.as_secs_f64() / one.as_secs_f64(),
        serial.as_secs_f64() / parallel.as_secs_f64()
    );
}

const PYCOGNITO_TIMING: &str = r#"
import sys, time, types, datetime
import pycognito.aws_srp as m
n = int(sys.argv[1])
srp_b, salt, block = sys.argv[2], sys.argv[3], sys.argv[4]
fixed = datetime.datetime(2026, 1, 5, 9, 3, 7)
class Fixed(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return fixed
m.datetime = types.SimpleNamespace(datetime=Fixed, timezone=datetime.timezone)
start = time.perf_counter()
for i in range(n):
    srp = m.AWSSRP("alice", "Corr3ct-Horse!", "us-east-1_Bench", "client", pool_region="us-east-1")
    srp.process_challenge({"USER_ID_FOR_SRP": "alice", "SALT": salt, "SRP_B": srp_b, "SECRET_BLOCK": block, "USERNAME": "alice"}, {"USERNAME": "alice"})
print((time.perf_counter() - start) / n * 1e6)
"#;

#[test]
#[ignore = "benchmark: run by cargo xtask bench"]
fn bench_srp_per_login_vs_pycognito() {
    let n = if quick() { 5 } else { 40 };
    let srp_b = "a".repeat(768);
    let salt = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    let block = "c2VjcmV0IGJsb2NrIGZvciB0aGUgYmVuY2htYXJr";
    let start = Instant::now();
    for _ in 0..n {
        let c = SrpClient::from_os_rng("us-east-1_Bench").unwrap();
        let key = c.authentication_key("alice", "Corr3ct-Horse!", &srp_b, salt).unwrap();
        let ts = cognito_timestamp(std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_603_787));
        std::hint::black_box(c.password_claim_signature(&key, "alice", block, &ts).unwrap());
    }
    let rust_us = start.elapsed().as_secs_f64() / f64::from(n) * 1e6;
    let out = std::process::Command::new(peer("CCC_TEST_PYTHON"))
        .args(["-c", PYCOGNITO_TIMING, &n.to_string(), &srp_b, salt, block])
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let py_us: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    let (pow, mul) = cognito_auth::srp::power_floor(n);
    let (pow_us, mul_us) = (pow.as_secs_f64() * 1e6, mul.as_secs_f64() * 1e6);
    println!(
        "bench: srp logins={n} rust_us={rust_us:.0} pycognito_us={py_us:.0} speedup={:.1} pow1025_us={pow_us:.0} mul_us={mul_us:.2}",
        py_us / rust_us
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by cargo xtask bench"]
async fn bench_moto_login_round_trip() {
    let pool = pool().await;
    pool.user("bench", true).await;
    let auth = Arc::new(pool.auth(AuthFlow::Srp, false));
    let n = if quick() { 3 } else { 15 };
    let mut times = Vec::new();
    for _ in 0..n {
        let start = Instant::now();
        let tokens =
            auth.authenticate("bench", &SecretString::from(PASSWORD.to_owned())).await.unwrap().into_tokens().unwrap();
        auth.get_aws_credentials(tokens.id_token.as_ref().unwrap()).await.unwrap();
        times.push(start.elapsed());
    }
    println!("bench: moto_login runs={n} median_ms={:.1}", median(times).as_secs_f64() * 1e3);
}

/// The fleet storm: 16 machines (a HOME each), every task asking at once for a credential none
/// of them has, from an upstream taking 300 ms (as the machine-level storm's): with the team
/// store, and without it (each machine alone).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by cargo xtask bench"]
async fn bench_fleet_storm() {
    use crate::fleet::{go, key_file, lines, machine_cmd, summary};
    let tasks = if quick() { 25 } else { 200 };
    for (level, fleet) in [("fleet", true), ("machines_alone", false)] {
        let dir = tempfile::tempdir().unwrap();
        let url = ccc_tests::team::fresh_database(&format!("bench_{level}")).await;
        let key = key_file(dir.path());
        let count = dir.path().join("upstream.log");
        let count_s = count.display().to_string();
        let machines: Vec<_> = (0..16)
            .map(|n| {
                let mut m = machine_cmd(dir.path(), n, &url, &key, tasks, &["counting", &count_s, "300"]);
                if !fleet {
                    m.env("FLEET_LEVEL", "off");
                }
                m.spawn().unwrap()
            })
            .collect();
        go(dir.path()).await;
        let started = Instant::now();
        for m in machines {
            assert_eq!(summary(m, Duration::from_secs(120)).await["ok"], tasks);
        }
        let wall = started.elapsed();
        println!(
            "bench: fleet_storm_{level} machines=16 tasks={} upstream_calls={} wall_ms={}",
            16 * tasks,
            lines(&count),
            wall.as_millis()
        );
    }
}
