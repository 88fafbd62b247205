//! cred-store against real peers: boto3 reads what we write; the ledger on SQLite and on the
//! PostgreSQL peer behaves the same.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use ccc_tests::peer;
use core_types::{AwsCredentials, ErrorKind, ExposeSecret, ManualClock, SecretString};
use cred_store::{AwsFiles, Ledger, Outcome, Paths, SsoCache, SsoToken, to_credential_process_json};

const READ_WITH_BOTO3: &str = r#"
import boto3, json, sys
c = boto3.Session(profile_name=sys.argv[1]).get_credentials().get_frozen_credentials()
print(json.dumps({"id": c.access_key, "secret": c.secret_key, "token": c.token}))
"#;

fn python(home: &Path, script: &str, args: &[&str]) -> serde_json::Value {
    let paths = Paths::under_home(home);
    let out = Command::new(peer("CCC_TEST_PYTHON"))
        .arg("-c")
        .arg(script)
        .args(args)
        .env("HOME", home)
        .env("AWS_SHARED_CREDENTIALS_FILE", &paths.credentials_file)
        .env("AWS_CONFIG_FILE", &paths.config_file)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run the peers' python");
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("python printed JSON")
}

#[allow(clippy::disallowed_methods)] // real time: boto3 compares expiry with its own clock
fn now() -> SystemTime {
    SystemTime::now()
}

fn creds() -> AwsCredentials {
    AwsCredentials::new(
        "ASIAB0TO3INTEROP",
        "b0to3/Secret+Key=",
        Some("IQoJb3JpZ2luX2VjEBoaCXVzLWVhc3QtMSJHMEUC==".into()),
        Some(now() + Duration::from_secs(3600)),
    )
}

#[test]
fn boto3_reads_a_profile_we_wrote() {
    let home = tempfile::tempdir().unwrap();
    let files = AwsFiles::new(&Paths::under_home(home.path()));
    files.save_credentials("interop", &creds()).unwrap();
    let got = python(home.path(), READ_WITH_BOTO3, &["interop"]);
    assert_eq!(got["id"], "ASIAB0TO3INTEROP");
    assert_eq!(got["secret"], "b0to3/Secret+Key=");
    assert_eq!(got["token"], "IQoJb3JpZ2luX2VjEBoaCXVzLWVhc3QtMSJHMEUC==");
}

#[test]
fn boto3_runs_a_credential_process_profile_with_our_output() {
    let home = tempfile::tempdir().unwrap();
    let paths = Paths::under_home(home.path());
    let out = home.path().join("process-output.json");
    cred_store::fsutil::write_atomic(&out, to_credential_process_json(&creds()).as_bytes()).unwrap();
    AwsFiles::new(&paths)
        .set_profile_values("viaprocess", &[("credential_process", &format!("cat {}", out.display()))])
        .unwrap();
    let got = python(home.path(), READ_WITH_BOTO3, &["viaprocess"]);
    assert_eq!(got["id"], "ASIAB0TO3INTEROP");
    assert_eq!(got["secret"], "b0to3/Secret+Key=");
    assert_eq!(got["token"], "IQoJb3JpZ2luX2VjEBoaCXVzLWVhc3QtMSJHMEUC==");
}

#[test]
fn botocore_loads_our_sso_cache_file() {
    let home = tempfile::tempdir().unwrap();
    let paths = Paths::under_home(home.path());
    let token = SsoToken {
        access_token: SecretString::from("sso-access-token-value".to_owned()),
        expires_at: now() + Duration::from_secs(3600),
        refresh_token: Some(SecretString::from("sso-refresh".to_owned())),
        client_id: Some("client-id".into()),
        client_secret: Some(SecretString::from("client-secret".to_owned())),
        registration_expires_at: Some(now() + Duration::from_secs(86400)),
        region: Some("us-east-1".into()),
        start_url: Some("https://example.awsapps.com/start".into()),
        extra: Default::default(),
    };
    SsoCache::new(&paths).save("my-sso", &token).unwrap();
    let script = format!(
        r#"
import json
from botocore.utils import SSOTokenLoader, JSONFileCache
loader = SSOTokenLoader(cache=JSONFileCache("{}"))
t = loader("https://example.awsapps.com/start", session_name="my-sso")
print(json.dumps({{"token": t["accessToken"], "refresh": t.get("refreshToken"), "expires": t["expiresAt"]}}))
"#,
        paths.sso_cache_dir.display()
    );
    let got = python(home.path(), &script, &[]);
    assert_eq!(got["token"], "sso-access-token-value");
    assert_eq!(got["refresh"], "sso-refresh");
    assert!(got["expires"].as_str().is_some_and(|e| e.ends_with('Z')), "{got}");
}

// ------------------------------------------------------------------ ledger, both backends

fn unique(prefix: &str) -> String {
    let n = now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos();
    format!("{prefix}-{}-{n}", std::process::id())
}

async fn exercise_ledger(ledger: &Ledger) {
    let clock = ManualClock::fixed();
    let source = unique("sso");
    let t0 = clock_now(&clock);
    assert!(ledger.status(&source, "dev").await.unwrap().is_none());

    let expires = t0 + Duration::from_secs(3600);
    ledger.record_attempt(&source, "dev", t0, &Outcome::Success { expires_at: Some(expires) }).await.unwrap();
    let t1 = t0 + Duration::from_secs(60);
    let failure = Outcome::Failure { kind: ErrorKind::Unavailable, message: "SSO endpoint returned 503".into() };
    ledger.record_attempt(&source, "dev", t1, &failure).await.unwrap();

    let s = ledger.status(&source, "dev").await.unwrap().expect("status row");
    assert_eq!(s.obtained_at, Some(t0), "the last good login is kept through a failure");
    assert_eq!(s.expires_at, Some(expires));
    assert_eq!(s.last_attempt_at, Some(t1));
    assert_eq!(s.last_outcome.as_deref(), Some("failure"));
    assert_eq!(s.last_error_kind.as_deref(), Some("Unavailable"));
    assert_eq!((s.attempt_count, s.failure_count), (2, 1));

    let attempts = ledger.attempts(&source, "dev", 10).await.unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0].outcome, "failure", "newest first");
    assert_eq!(attempts[1].at, t0);

    // 64 concurrent writers on one row and their own rows: nothing lost, no "database is locked"
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let ledger = ledger.clone();
            let source = source.clone();
            tokio::spawn(async move {
                let profile = if i % 2 == 0 { "dev".to_owned() } else { format!("p{i}") };
                ledger.record_attempt(&source, &profile, t1, &Outcome::Success { expires_at: None }).await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().expect("concurrent write");
    }
    let s = ledger.status(&source, "dev").await.unwrap().unwrap();
    assert_eq!(s.attempt_count, 2 + 32);
    let mine = ledger.entries().await.unwrap().into_iter().filter(|e| e.source == source).count();
    assert_eq!(mine, 1 + 32);
}

fn clock_now(clock: &ManualClock) -> SystemTime {
    core_types::Clock::now(clock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nested/ledger.sqlite");
    let ledger = Ledger::open(db.to_str().unwrap()).await.unwrap();
    assert_eq!(ledger.backend(), cred_store::Backend::Sqlite);
    exercise_ledger(&ledger).await;
    // a second handle (as another process would open it) sees the same rows
    let again = Ledger::open(&format!("sqlite://{}", db.display())).await.unwrap();
    assert!(again.attempt_total().await.unwrap() >= 66);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&db).unwrap().permissions().mode() & 0o077, 0, "ledger must be private");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_on_postgres() {
    let url = peer("CCC_TEST_DATABASE_URL");
    let ledger = Ledger::open(&url).await.unwrap();
    assert_eq!(ledger.backend(), cred_store::Backend::Postgres);
    exercise_ledger(&ledger).await;
    assert!(!format!("{ledger:?}").contains("password"));
}

#[tokio::test]
async fn unreachable_postgres_is_a_typed_error() {
    // a port nothing listens on
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = format!("postgres://ccc:hunter2-secret@127.0.0.1:{port}/none");
    let e = Ledger::open_postgres_with_timeout(&url, Duration::from_secs(1)).await.unwrap_err();
    assert_eq!(core_types::Kinded::kind(&e), ErrorKind::Io);
    assert!(!e.to_string().contains("hunter2"), "{e}");
}

#[test]
fn secrets_never_show_in_debug_of_public_types() {
    let c = creds();
    let token = SsoToken {
        access_token: SecretString::from("LEAK-access".to_owned()),
        expires_at: now(),
        refresh_token: Some(SecretString::from("LEAK-refresh".to_owned())),
        client_id: None,
        client_secret: Some(SecretString::from("LEAK-client".to_owned())),
        registration_expires_at: None,
        region: None,
        start_url: None,
        extra: Default::default(),
    };
    let mut config = cred_store::CccConfig::default();
    config.set(cognito_auth::keys::APP_CLIENT_SECRET, "LEAK-config");
    let shown =
        format!("{c:?} {token:?} {config:?} {:?}", cred_store::IniDocument::parse("[a]\nk = LEAK-ini\n").unwrap());
    for secret in ["b0to3/Secret", "IQoJb3JpZ2lu", "LEAK"] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
    assert_eq!(c.secret_access_key().expose_secret(), "b0to3/Secret+Key=");
}

/// botocore's own INI reader judges what we write: every generated file is parsed by
/// `botocore.configloader.raw_config_parse` before and after our edit.
const RAW_CONFIG_PARSE: &str = r#"
import json, sys
from botocore.configloader import raw_config_parse
out = []
for before, after in json.load(open(sys.argv[1])):
    row = {}
    for name, path in (("before", before), ("after", after)):
        try:
            row[name] = raw_config_parse(path)
        except Exception as e:
            row[name] = None
            row[name + "_error"] = type(e).__name__
    out.append(row)
print(json.dumps(out))
"#;

mod botocore_judge {
    use super::*;
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    /// One generated line of a profile: a key spelt in some case, or a comment, or a blank,
    /// or a continuation of the key above.
    fn line() -> impl Strategy<Value = String> {
        let key = prop::sample::select(vec![
            "aws_access_key_id",
            "AWS_ACCESS_KEY_ID",
            "Aws_Secret_Access_Key",
            "region",
            "REGION",
            "output",
            "cli_pager",
            "credential_process",
            "s3",
        ]);
        prop_oneof![
            4 => (key, "[a-z0-9]{0,8}").prop_map(|(k, v)| format!("{k} = {v}")),
            1 => Just("# a comment".to_owned()),
            1 => Just(String::new()),
            1 => Just("    max_concurrent_requests = 10".to_owned()),
        ]
    }

    fn section() -> impl Strategy<Value = String> {
        let name = prop::sample::select(vec!["default", "target", "profile target", "other", "profile other"]);
        (name, prop::sample::select(vec!["", "  ", "\t"]), prop::collection::vec(line(), 0..6)).prop_map(
            |(name, indent, lines)| {
                let mut text = format!("[{name}]\n");
                let mut keys = Vec::new();
                for l in lines {
                    // a repeated key makes botocore refuse the file: the cases with one are
                    // made on purpose below, in the section we edit
                    if let Some((k, _)) = l.split_once(" = ") {
                        if keys.contains(&k.to_lowercase()) {
                            continue;
                        }
                        keys.push(k.to_lowercase());
                    }
                    // a continuation is always deeper than the keys it follows
                    let deeper = if l.starts_with("    ") { indent } else { "" };
                    text.push_str(&format!("{indent}{deeper}{l}\n"));
                }
                text
            },
        )
    }

    /// A file: sections with the same name at most once (configparser refuses a repeat),
    /// joined with LF, CRLF or a bare CR (a line break to Python).
    fn file() -> impl Strategy<Value = String> {
        (prop::collection::vec(section(), 0..5), prop::sample::select(vec!["\n", "\r\n", "\r"])).prop_map(
            |(sections, nl)| {
                let mut seen = Vec::new();
                let mut text = String::new();
                for s in sections {
                    let header = s.lines().next().unwrap_or_default().to_owned();
                    if !seen.contains(&header) {
                        seen.push(header);
                        text.push_str(&s);
                    }
                }
                text.replace('\n', nl)
            },
        )
    }

    type Sections = serde_json::Map<String, serde_json::Value>;

    fn without(section: Option<&serde_json::Value>, keys: &[&str]) -> Sections {
        let mut s = section.and_then(|v| v.as_object()).cloned().unwrap_or_default();
        for k in keys {
            s.remove(*k);
        }
        s
    }

    /// Every generated file gets `setup-profile`'s edit of `~/.aws/config` and `login`'s edit
    /// of `~/.aws/credentials`; botocore must then read exactly the old file plus the keys we
    /// set. A file botocore refuses (a repeated key) we refuse too, naming the line, and leave
    /// byte for byte as it was.
    #[test]
    fn botocore_reads_only_our_keys_changed() {
        // reproducible: the same 160 files on every run
        let mut runner = TestRunner::deterministic();
        let files: Vec<String> = (0..160)
            .map(|_| file().new_tree(&mut runner).expect("generate").current())
            .chain([
                // the issue's case: every key indented; setup-profile must keep output and cli_pager
                "[profile target]\n  region = eu-west-1\n  output = json\n  cli_pager =\n".to_owned(),
                // an upper-case key is the same key to botocore: replaced, not duplicated
                "[target]\nAWS_ACCESS_KEY_ID = OLD\n[profile target]\nREGION = us-west-2\n".to_owned(),
                // a value with a continuation, a comment and a blank line inside it: replaced whole
                "[target]\naws_access_key_id = A\n  more\n# note\n\n  still more\nregion = x\n".to_owned(),
            ])
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let mut pairs = Vec::new();
        let mut refused_by_us = Vec::new();
        let process = "/usr/bin/ccc creds --profile target";
        let mut inputs = std::collections::HashMap::new();
        for (i, text) in files.iter().enumerate() {
            let home = dir.path().join(i.to_string());
            let paths = Paths::under_home(&home);
            std::fs::create_dir_all(home.join(".aws")).unwrap();
            for (kind, file, header, dup) in [
                ("config", &paths.config_file, "[profile target]", "REGION = dup"),
                ("credentials", &paths.credentials_file, "[target]", "Aws_Access_Key_Id = DUP"),
            ] {
                // every third file gets a second copy (in another case) of a key we set
                let text = match text.find(header) {
                    Some(at) if i % 3 == 0 => {
                        let nl = if text.contains("\r\n") {
                            "\r\n"
                        } else if text.contains('\r') {
                            "\r"
                        } else {
                            "\n"
                        };
                        let end = at + header.len() + nl.len();
                        format!("{}{dup}{nl}{dup}{nl}{}", &text[..end], &text[end..])
                    }
                    _ => text.clone(),
                };
                std::fs::write(file, &text).unwrap();
                std::fs::write(home.join(format!("before-{kind}")), &text).unwrap();
                inputs.insert((i, kind), text);
            }
            let files = AwsFiles::new(&paths);
            // a file botocore refuses (a repeated key) is refused with its line, untouched
            let config_edit =
                files.set_profile_values("target", &[("credential_process", process), ("region", "us-east-1")]);
            let creds_edit =
                files.save_credentials("target", &AwsCredentials::new("AKIANEW", "new/secret", None, None));
            for (kind, file, edit) in
                [("config", &paths.config_file, config_edit), ("credentials", &paths.credentials_file, creds_edit)]
            {
                let before = home.join(format!("before-{kind}"));
                if edit.is_err() {
                    assert_eq!(
                        std::fs::read(file).unwrap(),
                        std::fs::read(&before).unwrap(),
                        "case {i} {kind}: changed"
                    );
                    refused_by_us.push((i, kind));
                }
                pairs.push((i, kind, before, file.clone()));
            }
        }
        let list = dir.path().join("pairs.json");
        let json: Vec<[String; 2]> =
            pairs.iter().map(|(_, _, b, a)| [b.display().to_string(), a.display().to_string()]).collect();
        std::fs::write(&list, serde_json::to_string(&json).unwrap()).unwrap();
        let rows = python(dir.path(), RAW_CONFIG_PARSE, &[&list.display().to_string()]);
        let rows = rows.as_array().expect("a list");
        assert_eq!(rows.len(), pairs.len());
        let mut refused_before = 0;
        for ((i, kind, _, _), row) in pairs.iter().zip(rows) {
            let text = &inputs[&(*i, *kind)];
            if refused_by_us.contains(&(*i, *kind)) {
                // we refuse only what botocore refuses
                assert!(
                    row["before"].as_object().is_none(),
                    "case {i} {kind}: botocore reads what we refused: {text:?}"
                );
                refused_before += 1;
                continue;
            }
            let after = row["after"].as_object().unwrap_or_else(|| {
                panic!("case {i} {kind}: botocore refuses what we wrote ({}); input {text:?}", row["after_error"])
            });
            let (target, touched, expect): (&str, &[&str], &[(&str, &str)]) = if *kind == "config" {
                (
                    "profile target",
                    &["credential_process", "region"],
                    &[("credential_process", process), ("region", "us-east-1")],
                )
            } else {
                (
                    "target",
                    &["aws_access_key_id", "aws_secret_access_key"],
                    &[("aws_access_key_id", "AKIANEW"), ("aws_secret_access_key", "new/secret")],
                )
            };
            for (k, v) in expect {
                assert_eq!(after[target][*k], *v, "case {i} {kind}: {k}; input {text:?}");
            }
            let Some(before) = row["before"].as_object() else {
                refused_before += 1;
                continue;
            };
            for (name, section) in before {
                if name != target {
                    assert_eq!(
                        Some(section),
                        after.get(name),
                        "case {i} {kind}: section {name} changed; input {text:?}"
                    );
                }
            }
            assert_eq!(
                without(before.get(target), touched),
                without(after.get(target), touched),
                "case {i} {kind}: keys we did not set changed; input {text:?}"
            );
        }
        // the generator really made files botocore refuses and files it reads
        assert!(refused_before < rows.len() / 2, "{refused_before} of {} refused before", rows.len());
        assert!(refused_before > 0);
    }

    #[test]
    fn a_value_with_a_line_break_is_refused_and_nothing_is_written() {
        let home = tempfile::tempdir().unwrap();
        let paths = Paths::under_home(home.path());
        let files = AwsFiles::new(&paths);
        files.set_profile_values("target", &[("region", "us-east-1")]).unwrap();
        let before = std::fs::read_to_string(&paths.config_file).unwrap();
        for evil in ["us-east-1\rcredential_process = touch /tmp/pwned", "x\ncredential_process = id", "x\u{7}"] {
            let e = files.set_profile_values("target", &[("region", evil)]).unwrap_err();
            assert_eq!(core_types::Kinded::kind(&e), ErrorKind::InvalidInput, "{e}");
            let bad = AwsCredentials::new("AKIA", evil, None, None);
            assert!(files.save_credentials("target", &bad).is_err());
        }
        assert_eq!(std::fs::read_to_string(&paths.config_file).unwrap(), before);
        assert!(
            !paths.credentials_file.exists()
                || !std::fs::read_to_string(&paths.credentials_file).unwrap().contains("AKIA")
        );
    }
}
