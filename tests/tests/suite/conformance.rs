//! The AWS SDKs' own cross-SDK cases (vendored from smithy-rs under tests/data/smithy-rs),
//! run against the engine's reading of the AWS files, with botocore as the judge wherever
//! botocore and the suite disagree.

use std::collections::BTreeMap;

use cred_store::{AwsFiles, Base, Paths};
use serde_json::{Value, json};

fn data(name: &str) -> Value {
    let path = ccc_tests::workspace_root().join("tests/data/smithy-rs").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// A home whose `~/.aws/config` and `~/.aws/credentials` are exactly these texts (absent when
/// `None`).
fn home_with(config: Option<&str>, credentials: Option<&str>) -> (tempfile::TempDir, Paths) {
    let tmp = tempfile::tempdir().unwrap();
    let paths = Paths::under_home(tmp.path());
    std::fs::create_dir_all(tmp.path().join(".aws")).unwrap();
    if let Some(c) = config {
        std::fs::write(&paths.config_file, c).unwrap();
    }
    if let Some(c) = credentials {
        std::fs::write(&paths.credentials_file, c).unwrap();
    }
    (tmp, paths)
}

/// How a case's profiles are laid out in the two files.
#[derive(Debug, Clone, Copy)]
enum Layout {
    /// Keys in the credentials file, everything else in the config file.
    Split,
    /// Everything in the config file.
    ConfigOnly,
    /// Every profile in the credentials file (sso-sessions can only be in the config file).
    CredentialsOnly,
}

const KEYS: &[&str] = &["aws_access_key_id", "aws_secret_access_key", "aws_session_token"];

fn write_section(out: &mut String, header: &str, values: &serde_json::Map<String, Value>) {
    out.push_str(&format!("[{header}]\n"));
    for (k, v) in values {
        out.push_str(&format!("{k} = {}\n", v.as_str().unwrap()));
    }
    out.push('\n');
}

fn lay_out(input: &Value, layout: Layout) -> (String, String) {
    let (mut config, mut credentials) = (String::new(), String::new());
    let config_header = |name: &str| if name == "default" { name.to_owned() } else { format!("profile {name}") };
    for (name, values) in input["profiles"].as_object().unwrap() {
        let values = values.as_object().unwrap();
        match layout {
            Layout::ConfigOnly => write_section(&mut config, &config_header(name), values),
            Layout::CredentialsOnly => write_section(&mut credentials, name, values),
            Layout::Split => {
                let (keys, rest): (serde_json::Map<_, _>, serde_json::Map<_, _>) =
                    values.clone().into_iter().partition(|(k, _)| KEYS.contains(&k.as_str()));
                if !keys.is_empty() {
                    write_section(&mut credentials, name, &keys);
                }
                if !rest.is_empty() || keys.is_empty() {
                    write_section(&mut config, &config_header(name), &rest);
                }
            }
        }
    }
    if let Some(sessions) = input.get("sso_sessions").and_then(Value::as_object) {
        for (name, values) in sessions {
            write_section(&mut config, &format!("sso-session {name}"), values.as_object().unwrap());
        }
    }
    (config, credentials)
}

/// A plan in the suite's output shape (`ProfileChain`: the base, then each `AssumeRole`).
fn chain(plan: &cred_store::CredentialPlan) -> Value {
    use core_types::ExposeSecret;
    let mut out = Vec::new();
    let strip = |v: Value| {
        Value::Object(
            v.as_object().unwrap().iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect(),
        )
    };
    out.push(match &plan.base {
        Base::AccessKey { access_key_id, secret_access_key, session_token, account_id } => {
            json!({"AccessKey": strip(json!({
                "access_key_id": access_key_id,
                "secret_access_key": secret_access_key.0.expose_secret(),
                "session_token": session_token.as_ref().map(|t| t.0.expose_secret().to_owned()),
                "account_id": account_id,
            }))})
        }
        Base::NamedSource(s) => json!({"NamedSource": s}),
        Base::WebIdentity { role_arn, token_file, role_session_name, .. } => json!({"WebIdentityToken": strip(json!({
            "role_arn": role_arn, "web_identity_token_file": token_file, "role_session_name": role_session_name,
        }))}),
        Base::Sso { session, region, start_url, account_id, role_name } => json!({"Sso": strip(json!({
            "sso_session": session, "sso_region": region, "sso_start_url": start_url,
            "sso_account_id": account_id, "sso_role_name": role_name,
        }))}),
        Base::Process { command, account_id } => {
            json!({"CredentialProcess": strip(json!({"command": command, "account_id": account_id}))})
        }
        Base::LoginSession { arn } => json!({"LoginSession": {"login_session_arn": arn}}),
        other => panic!("a base the suite does not know: {other:?}"),
    });
    for hop in &plan.hops {
        out.push(json!({"AssumeRole": strip(json!({
            "role_arn": hop.role_arn, "external_id": hop.external_id, "role_session_name": hop.role_session_name,
        }))}));
    }
    Value::Array(out)
}

/// Every assume-role case, in the three layouts: the plan equals the expected chain, or the
/// error contains the expected text (the suite's own check).
#[test]
fn every_assume_role_case_plans_as_the_sdks_do_in_every_layout() {
    let cases = data("assume-role-tests.json");
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 28, "the vendored suite changed: update this test with it");
    let mut checked = 0;
    for case in cases {
        let docs = case["docs"].as_str().unwrap();
        for layout in [Layout::Split, Layout::ConfigOnly, Layout::CredentialsOnly] {
            let (config, credentials) = lay_out(&case["input"], layout);
            let (_home, paths) = home_with(Some(&config), Some(&credentials));
            let set = AwsFiles::new(&paths).profile_set().unwrap();
            let got = cred_store::plan(&set, case["input"]["selected_profile"].as_str().unwrap());
            match (&case["output"], got) {
                (Value::Object(o), Ok(plan)) if o.contains_key("ProfileChain") => {
                    assert_eq!(
                        chain(&plan),
                        o["ProfileChain"],
                        "{docs} ({layout:?})\nconfig:\n{config}\ncredentials:\n{credentials}"
                    );
                }
                (Value::Object(o), Err(e)) if o.contains_key("Error") => {
                    let wanted = o["Error"].as_str().unwrap();
                    assert!(e.to_string().contains(wanted), "{docs} ({layout:?}): {e} should contain {wanted:?}");
                }
                (expected, got) => panic!("{docs} ({layout:?}): expected {expected}, got {got:?}"),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 84);
}

/// Where botocore reads a parser case differently from the suite, the engine follows botocore
/// (the AWS CLI, boto3 and every Python tool read these files with it): each such case is
/// named here with why, and the test below checks both that botocore still disagrees with the
/// suite and that we agree with botocore.
const BOTOCORE_DIFFERS: &[(&str, &str)] = &[
    ("Profile names support alphanumeric characters and - / . % @ _ : +", "botocore keeps `foo!bar`"),
    ("Property definitions must contain an equals sign.", "configparser also splits at `:`"),
    ("Pound sign comments are ignored.", "no inline comments in configparser"),
    ("Semicolon sign comments are ignored.", "no inline comments in configparser"),
    ("All comment types can be used together.", "no inline comments in configparser"),
    ("Comments can be empty.", "no inline comments in configparser"),
    ("Duplicate profiles in the same file merge properties.", "configparser refuses a repeated section"),
    ("Duplicate properties in a profile use the last one defined.", "configparser refuses a repeated key"),
    ("Duplicate properties in duplicate profiles use the last one defined.", "configparser refuses a repeated section"),
    (
        "Duplicate properties in duplicate profiles use the last one defined (case insensitive).",
        "configparser refuses a repeated section",
    ),
    (
        "Default profile with profile prefix overrides default profile without prefix when profile prefix is first.",
        "the later section wins in botocore",
    ),
    ("Invalid profile names are ignored.", "botocore accepts any name"),
    ("Invalid property names are ignored.", "botocore accepts any key"),
    ("Properties can have sub-properties.", "botocore parses the sub-properties into a table"),
    ("Sub-property definitions can have an empty value.", "botocore parses the sub-properties into a table"),
    ("Sub-property definitions cannot have an empty name.", "botocore keeps an empty sub-key"),
    ("Sub-property definitions can have an invalid name.", "botocore parses the sub-properties into a table"),
    ("Sub-properties can have blank lines that are ignored", "botocore parses the sub-properties into a table"),
    (
        "Default profiles with mixed prefixes in the config file ignore the one without prefix when merging.",
        "configparser refuses a repeated section",
    ),
    ("Default profiles with mixed prefixes merge with credentials", "configparser refuses a repeated section"),
    ("Credentials profiles with prefix are ignored.", "botocore reads `[profile foo]` in credentials as `profile foo`"),
    ("profile name with extra whitespace", "`[   profile foo    ]` is not a profile section for botocore"),
    ("profile name with extra whitespace in credentials", "botocore keeps the spaces in a credentials section name"),
];

/// Our reading of one pair of files, in botocore's shape (sub-properties as tables, a file
/// botocore refuses as an error).
fn our_view(config: Option<&str>, credentials: Option<&str>) -> Value {
    let (_home, paths) = home_with(config, credentials);
    match AwsFiles::new(&paths).profile_set() {
        Err(e) => json!({"error": e.to_string()}),
        Ok(set) => {
            let table = |s: &cred_store::Settings| -> Value {
                Value::Object(
                    s.iter()
                        .map(|(k, v)| {
                            let v = match v.strip_prefix('\n') {
                                // botocore's _parse_nested: `key = value` per line, blank lines skipped
                                Some(nested) => Value::Object(
                                    nested
                                        .lines()
                                        .filter(|l| !l.trim().is_empty())
                                        .map(|l| {
                                            let (k, v) = l.split_once('=').unwrap_or((l, ""));
                                            (k.trim().to_owned(), json!(v.trim()))
                                        })
                                        .collect(),
                                ),
                                None => json!(v),
                            };
                            (k.clone(), v)
                        })
                        .collect(),
                )
            };
            let map = |m: &BTreeMap<String, cred_store::Settings>| -> Value {
                Value::Object(m.iter().map(|(k, v)| (k.clone(), table(v))).collect())
            };
            json!({"profiles": map(&set.profiles), "sso_sessions": map(&set.sso_sessions)})
        }
    }
}

/// botocore's reading of the same pairs (`botocore.configloader`, merged as
/// `Session.full_config` merges the credentials file), one Python run for all of them.
fn botocore_views(inputs: &[(Option<String>, Option<String>)]) -> Vec<Value> {
    let script = r#"
import json, os, sys, tempfile
import botocore.configloader as cl
def view(config, creds):
    d = tempfile.mkdtemp()
    try:
        cfg = {}
        if config is not None:
            p = os.path.join(d, "config"); open(p, "w", newline="").write(config)
            cfg = cl.load_config(p)
        cred = {}
        if creds is not None:
            p = os.path.join(d, "credentials"); open(p, "w", newline="").write(creds)
            cred = cl.raw_config_parse(p)
    except Exception as e:
        return {"error": type(e).__name__}
    profiles = dict(cfg.get("profiles", {}))
    for name, values in cred.items():
        profiles[name] = {**profiles.get(name, {}), **values}
    return {"profiles": profiles, "sso_sessions": cfg.get("sso_sessions", {})}
print(json.dumps([view(c, k) for c, k in json.load(sys.stdin)]))
"#;
    let mut child = std::process::Command::new(ccc_tests::peer("CCC_TEST_PYTHON"))
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(serde_json::to_string(inputs).unwrap().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

fn same(ours: &Value, judge: &Value) -> bool {
    match (ours.get("error"), judge.get("error")) {
        (Some(_), Some(_)) => true,
        (None, None) => ours == judge,
        _ => false,
    }
}

/// Every parser case: our reading equals the suite's expectation where botocore agrees with
/// it, and botocore's reading where botocore does not (those cases are the list above, no
/// more and no fewer).
#[test]
fn every_profile_parser_case_reads_as_the_suite_or_as_botocore_where_they_differ() {
    let suite = data("profile-parser-tests.json");
    let cases = suite["tests"].as_array().unwrap();
    assert_eq!(cases.len(), 65, "the vendored suite changed: update this test with it");
    let inputs: Vec<(Option<String>, Option<String>)> = cases
        .iter()
        .map(|c| {
            let text = |k: &str| c["input"].get(k).and_then(Value::as_str).map(str::to_owned);
            (text("configFile"), text("credentialsFile"))
        })
        .collect();
    let judge = botocore_views(&inputs);
    let mut differing = Vec::new();
    for ((case, (config, credentials)), botocore) in cases.iter().zip(&inputs).zip(&judge) {
        let name = case["name"].as_str().unwrap();
        let ours = our_view(config.as_deref(), credentials.as_deref());
        let expected = &case["output"];
        let suite_says_error = expected.get("errorContaining").is_some();
        let botocore_agrees = if suite_says_error {
            botocore.get("error").is_some()
        } else {
            botocore.get("profiles") == Some(&expected["config"]["profiles"])
        };
        assert!(same(&ours, botocore), "{name}: ours {ours} differs from botocore's {botocore}");
        if botocore_agrees {
            if suite_says_error {
                assert!(ours.get("error").is_some(), "{name}: the suite and botocore refuse it, we read {ours}");
            } else {
                assert_eq!(ours["profiles"], expected["config"]["profiles"], "{name}");
                if let Some(sessions) = expected["config"].get("sso_sessions") {
                    assert_eq!(&ours["sso_sessions"], sessions, "{name}");
                }
            }
        } else {
            differing.push(name);
        }
    }
    let listed: Vec<&str> = BOTOCORE_DIFFERS.iter().map(|(n, _)| *n).collect();
    assert_eq!(differing, listed, "the cases where botocore differs from the suite are exactly the documented ones");
}

/// Hostile and everyday files beyond the suite, read by us and by botocore alike: indentation
/// by a no-break space, headers with extra `]` or spaces, quoted names, values that look like
/// comments, files botocore refuses.
#[test]
fn hostile_files_read_as_botocore_reads_them() {
    let configs = [
        "[profile p]\n\u{a0}region = eu-west-1\n  output = json\n",
        "[profile p]x]\nregion = a\n[ profile q ]\nregion = b\n[profile  r ]\nregion = c\n",
        "[profile \"a b\"]\nregion = a\n[profile 'c']\nregion = b\n[profile d e]\nregion = c\n[profile prod\"\".Dev]\nregion = d\n",
        "[profile p]\nregion = us-east-1 # comment\n; full comment\ns3 =\n  addressing_style = path\n\n  max_concurrent_requests = 10\n",
        "[profile p]\nregion = a\n[profile p]\nregion = b\n",
        "[default]\nregion = a\n[profile default]\nregion = b\n",
        "[profile p]\nregion = a\r[profile q]\rregion = b\r",
        "[sso-session corp]\nsso_region = us-east-1\n[sso-session \"my corp\"]\nsso_region = eu-west-1\n",
        "[profile p]\n\u{1f}region\u{1f}= a\n",
        "[profile Bob's sandbox]\nregion = a\n[profile back\\slash]\nregion = b\n",
    ];
    let inputs: Vec<(Option<String>, Option<String>)> = configs
        .iter()
        .map(|c| {
            (Some((*c).to_owned()), Some("[p]\naws_access_key_id = AKIA1\naws_secret_access_key = s\n".to_owned()))
        })
        .collect();
    let judge = botocore_views(&inputs);
    for ((config, _), botocore) in inputs.iter().zip(&judge) {
        let ours = our_view(config.as_deref(), Some("[p]\naws_access_key_id = AKIA1\naws_secret_access_key = s\n"));
        assert!(same(&ours, botocore), "{config:?}: ours {ours} differs from botocore's {botocore}");
    }
}

#[test]
fn the_vendored_suites_carry_their_license() {
    let dir = ccc_tests::workspace_root().join("tests/data/smithy-rs");
    assert!(std::fs::read_to_string(dir.join("LICENSE")).unwrap().contains("Apache License"));
    assert!(
        std::fs::read_to_string(dir.join("README.md")).unwrap().contains("56ee88c5c6edd967967656f1e29f46b229105e79")
    );
}
