//! Repository rules as ordinary tests (after rust-analyzer's tidy tests).

use std::fs;
use std::path::{Path, PathBuf};

use ccc_tests::workspace_root;

/// The published crates: the keys of [`ALLOWED_DEPS`].
fn crates() -> impl Iterator<Item = &'static str> {
    ALLOWED_DEPS.iter().map(|(k, _)| *k)
}

/// Which workspace crates each crate may depend on (docs/ARCHITECTURE.md's crate map).
const ALLOWED_DEPS: &[(&str, &[&str])] = &[
    ("core-types", &[]),
    ("aws-failure", &["core-types"]),
    ("cred-store", &["core-types"]),
    ("sso-refresh", &["core-types", "aws-failure", "cred-store"]),
    ("cognito-auth", &["core-types", "aws-failure", "cred-store"]),
    ("oauth-pkce", &["core-types", "cred-store"]),
    ("aws-inspect", &["core-types", "aws-failure"]),
    ("cloud-sessions", &["core-types", "aws-failure", "cred-store", "sso-refresh", "cognito-auth", "oauth-pkce"]),
    (
        "ccc",
        &[
            "core-types",
            "aws-failure",
            "cred-store",
            "sso-refresh",
            "cognito-auth",
            "oauth-pkce",
            "aws-inspect",
            "cloud-sessions",
        ],
    ),
];

fn manifest(krate: &str) -> String {
    let path = workspace_root().join("crates").join(krate).join("Cargo.toml");
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The dependency names in `[dependencies]` (not dev-dependencies) of a manifest.
fn normal_deps(manifest: &str) -> Vec<String> {
    let mut in_deps = false;
    let mut deps = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && let Some((name, _)) = line.split_once(['=', '.']) {
            let name = name.trim();
            if !name.is_empty() && !name.starts_with('#') {
                deps.push(name.to_owned());
            }
        }
    }
    deps
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Source above the first `#[cfg(test)]`, i.e. without the unit-test module.
fn non_test_source(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    match text.find("#[cfg(test)]") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

#[test]
fn every_crate_has_readme_description_and_include_list() {
    for krate in crates() {
        let root = workspace_root().join("crates").join(krate);
        assert!(root.join("README.md").is_file(), "{krate} has no README.md");
        let m = manifest(krate);
        for key in
            ["description = ", "include = ", "keywords = ", "readme = ", "license.workspace", "repository.workspace"]
        {
            assert!(m.contains(key), "{krate}/Cargo.toml lacks `{key}`");
        }
    }
}

#[test]
fn workspace_dependencies_follow_the_crate_map() {
    for (krate, allowed) in ALLOWED_DEPS {
        for dep in normal_deps(&manifest(krate)) {
            if crates().any(|c| c == dep) {
                assert!(allowed.contains(&dep.as_str()), "{krate} must not depend on {dep} (see docs/ARCHITECTURE.md)");
            }
        }
    }
}

#[test]
fn core_types_does_no_io() {
    let deps = normal_deps(&manifest("core-types"));
    for banned in ["tokio", "reqwest", "hyper", "sqlx", "aws-config", "fs4", "tempfile", "serde_json"] {
        assert!(!deps.iter().any(|d| d == banned), "core-types depends on I/O crate {banned}");
    }
    let mut files = Vec::new();
    rust_files(&workspace_root().join("crates/core-types/src"), &mut files);
    assert!(!files.is_empty());
    for f in files {
        let src = non_test_source(&f);
        for banned in ["std::fs", "std::net", "std::process", "std::env", "File::"] {
            assert!(!src.contains(banned), "{} uses {banned}: core-types does no I/O", f.display());
        }
    }
}

#[test]
fn no_debugging_leftovers_outside_tests() {
    let mut files = Vec::new();
    for krate in crates() {
        rust_files(&workspace_root().join("crates").join(krate).join("src"), &mut files);
    }
    rust_files(&workspace_root().join("xtask/src"), &mut files);
    for f in files {
        let src = non_test_source(&f);
        for banned in ["dbg!(", "todo!(", "unimplemented!("] {
            assert!(!src.contains(banned), "{} contains {banned}", f.display());
        }
    }
}

#[test]
fn architecture_doc_mentions_every_crate() {
    let doc = fs::read_to_string(workspace_root().join("docs/ARCHITECTURE.md")).expect("docs/ARCHITECTURE.md");
    for krate in crates().chain(["xtask"]) {
        assert!(doc.contains(&format!("`{krate}`")), "docs/ARCHITECTURE.md does not mention `{krate}`");
    }
}

#[test]
fn the_tidy_parser_sees_dependencies() {
    // guards the tests above against a parser that silently finds nothing
    let deps = normal_deps("[dependencies]\nfoo.workspace = true\nbar = \"1\"\n[dev-dependencies]\nbaz = \"1\"\n");
    assert_eq!(deps, ["foo", "bar"]);
    assert!(normal_deps(&manifest("cred-store")).contains(&"core-types".to_owned()));
}

#[test]
fn readme_keeps_the_two_commands() {
    let readme = fs::read_to_string(workspace_root().join("README.md")).expect("README.md");
    assert!(readme.contains("cargo xtask demo"));
    assert!(readme.contains("cargo xtask test"));
    let ci = fs::read_to_string(workspace_root().join(".ci/run")).expect(".ci/run");
    assert!(ci.contains("cargo xtask test"), ".ci/run must call the README's test command");
}

/// `fastrand` is a fast, predictable generator seeded from the clock: fine for jitter, fatal
/// for a secret (SRP `a`, PKCE verifier, state, nonce). It may appear in one place only, the
/// retry jitter, and no public signature may hand one out.
#[test]
fn fastrand_is_for_jitter_only() {
    let allowed = workspace_root().join("crates/core-types/src/retry.rs");
    let mut files = Vec::new();
    for krate in crates() {
        rust_files(&workspace_root().join("crates").join(krate).join("src"), &mut files);
        if krate != "core-types" {
            assert!(
                !normal_deps(&manifest(krate)).iter().any(|d| d == "fastrand"),
                "{krate} depends on fastrand: secret randomness comes from getrandom or AWS-LC"
            );
        }
    }
    assert!(files.contains(&allowed));
    for f in files {
        let src = fs::read_to_string(&f).unwrap_or_default();
        if f == allowed {
            // the jitter generator stays private
            for line in src.lines().filter(|l| l.contains("fastrand")) {
                assert!(!line.trim_start().starts_with("pub"), "{}: public API exposes fastrand: {line}", f.display());
            }
            continue;
        }
        assert!(!src.contains("fastrand"), "{} uses fastrand: draw secrets from getrandom", f.display());
    }
    // the secret draws really go to a cryptographic generator: the OS's, or AWS-LC's
    // (seeded from the OS, the TLS stack's own)
    let srp = fs::read_to_string(workspace_root().join("crates/cognito-auth/src/srp.rs")).unwrap();
    assert!(srp.contains("getrandom::SysRng") && srp.contains("TryCryptoRng"));
    let oauth = fs::read_to_string(workspace_root().join("crates/oauth-pkce/src/code.rs")).unwrap();
    assert!(oauth.contains("aws_lc_rs::rand::fill") && !oauth.contains("new_random"));
}

/// Libraries never name the CLI's commands: the hint that names one is `ccc`'s to give (it
/// maps error kinds to hints), so a library user never reads "run `ccc login`".
#[test]
fn no_library_message_names_a_ccc_command() {
    let mut files = Vec::new();
    for krate in crates().filter(|k| *k != "ccc") {
        rust_files(&workspace_root().join("crates").join(krate).join("src"), &mut files);
    }
    assert!(files.len() > 20);
    for f in files {
        let src = non_test_source(&f);
        for (i, line) in src.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            assert!(!code.contains("`ccc "), "{}:{}: a library names a ccc command: {code}", f.display(), i + 1);
            for command in COMMANDS {
                let named = format!("ccc {command}");
                assert!(!code.contains(&named), "{}:{}: a library names `{named}`: {code}", f.display(), i + 1);
            }
        }
    }
}

/// The CLI's commands (a library message naming one is the CLI's hint in the wrong place).
const COMMANDS: &[&str] = &[
    "login",
    "logout",
    "configure",
    "config set",
    "config get",
    "creds",
    "setup-profile",
    "whoami",
    "history",
    "resources",
    "permissions",
    "sessions",
    "oauth",
    "sso ",
];

/// Only cred-store touches files (invariant 1): every other crate reads and writes through
/// it (`cred_store::fsutil`, the typed stores), so locking, atomic writes, modes and
/// symlink checks have one owner.
#[test]
fn only_cred_store_touches_files() {
    let mut files = Vec::new();
    for krate in crates().filter(|k| *k != "cred-store") {
        rust_files(&workspace_root().join("crates").join(krate).join("src"), &mut files);
    }
    assert!(files.len() > 20);
    let forbidden = ["std::fs", " fs::", "(fs::", "tokio::fs", "File::open", "File::create", "OpenOptions"];
    for f in files {
        let src = non_test_source(&f);
        for (i, line) in src.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for word in forbidden {
                assert!(
                    !code.contains(word),
                    "{}:{}: file access outside cred-store ({word}): {code}",
                    f.display(),
                    i + 1
                );
            }
        }
    }
}

/// The top-level module a source file belongs to (`azure/chain.rs` → `azure`), `None` for the
/// crate root.
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let first = file.strip_prefix(src).ok()?.components().next()?.as_os_str().to_string_lossy().into_owned();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_owned();
    (name != "lib" && name != "main").then_some(name)
}

/// The modules a source text names as `crate::NAME` (or inside `crate::{...}`).
fn named_modules(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        let group = match rest.strip_prefix('{') {
            Some(g) => &g[..g.find('}').unwrap_or(g.len())],
            None => &rest[..rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len())],
        };
        for word in group.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()) {
            out.push(word.to_owned());
        }
    }
    out
}

/// No two modules of a crate depend on each other, directly or round a longer loop: a
/// reader can start at the bottom of a crate and go up (the issue behind this rule found
/// `manager ⇄ ops` in cloud-sessions).
#[test]
fn no_module_cycles() {
    use std::collections::{BTreeMap, BTreeSet};
    let mut checked = 0;
    for krate in crates() {
        let src = workspace_root().join("crates").join(krate).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for f in &files {
            if let Some(m) = top_module(&src, f) {
                let deps = named_modules(&non_test_source(f));
                graph.entry(m.clone()).or_default().extend(deps.into_iter().filter(|d| *d != m));
            }
        }
        let modules: BTreeSet<String> = graph.keys().cloned().collect();
        for deps in graph.values_mut() {
            deps.retain(|d| modules.contains(d));
        }
        // depth-first; a module met again while still on the path closes a cycle
        fn visit(
            m: &str,
            graph: &BTreeMap<String, BTreeSet<String>>,
            path: &mut Vec<String>,
            done: &mut BTreeSet<String>,
        ) {
            if done.contains(m) {
                return;
            }
            if let Some(i) = path.iter().position(|p| p == m) {
                panic!("module cycle: {} -> {m}", path[i..].join(" -> "));
            }
            path.push(m.to_owned());
            for d in &graph[m] {
                visit(d, graph, path, done);
            }
            path.pop();
            done.insert(m.to_owned());
        }
        let mut done = BTreeSet::new();
        for m in &modules {
            visit(m, &graph, &mut Vec::new(), &mut done);
        }
        checked += modules.len();
    }
    assert!(checked > 40, "the checker saw the modules ({checked})");
    // and it sees a cycle when there is one
    assert_eq!(named_modules("use crate::a::B;\nuse crate::{b::C, error::E};"), ["a", "b", "C", "error", "E"]);
}

/// One credential engine (ARCHITECTURE, "one credential engine"): which credential a name gets
/// is decided and built in the libraries (cred-store plans, cloud-sessions builds, sso-refresh
/// and cognito-auth keep their sign-ins); the CLI calls them and builds no credential source of
/// its own.
#[test]
fn the_cli_builds_no_credential_provider() {
    let mut files = Vec::new();
    rust_files(&workspace_root().join("crates/ccc/src"), &mut files);
    assert!(files.len() > 10);
    let forbidden = [
        "ProfileFileCredentialsProvider",
        "DefaultCredentialsChain",
        "CredentialProcessProvider",
        "ImdsCredentialsProvider",
        "EcsCredentialsProvider",
        "EnvironmentVariableCredentialsProvider",
        ".assume_role()",
        ".assume_role_with_web_identity()",
        ".get_role_credentials()",
        ".get_credentials_for_identity()",
        "cred_store::plan(",
        "Refreshing::builder",
        "SdkProviderSource",
        "SharedCredentialsProvider::new",
        "AwsSso::builder",
        "AwsSso::session_builder",
        "CognitoProfile::for_user",
    ];
    for f in files {
        let src = non_test_source(&f);
        for (i, line) in src.lines().enumerate() {
            for word in forbidden {
                assert!(!line.contains(word), "{}:{}: the CLI builds credentials itself ({word})", f.display(), i + 1);
            }
        }
    }
}

/// Nothing waits forever: every file that configures an AWS SDK client in a crate that talks
/// to AWS on its own also gives it deadlines, and no HTTP client is built without one.
#[test]
fn every_client_has_a_deadline() {
    let mut files = Vec::new();
    for krate in crates().filter(|k| *k != "aws-inspect") {
        // aws-inspect's clients use the SdkConfig its caller gives (with the caller's deadlines)
        rust_files(&workspace_root().join("crates").join(krate).join("src"), &mut files);
    }
    for f in files {
        let src = non_test_source(&f);
        // each construction its own deadline: as many TimeoutConfigs given as configs built
        let builds = src.matches("SdkConfig::builder()").count() + src.matches("::Client::from_conf(").count();
        let deadlines = src.matches(".timeout_config(").count();
        assert!(
            deadlines >= builds,
            "{}: builds {builds} AWS clients or SdkConfigs and gives {deadlines} a TimeoutConfig",
            f.display()
        );
        for (i, line) in src.lines().enumerate() {
            assert!(
                !line.contains("reqwest::Client::new()"),
                "{}:{}: an HTTP client without a timeout (use reqwest::Client::builder().timeout(..))",
                f.display(),
                i + 1
            );
        }
    }
}

/// Errors keep their cause typed: no code decides anything by reading an error's text (the
/// refreshing cache keeps its source's error as `#[source]`, finds a nested cache's report by
/// type, and says "sign in again" by kind). The only text read is a service's own message
/// where no code tells two answers apart, each listed here with its reason.
#[test]
fn no_code_matches_on_error_text() {
    let service_words = [
        // Cognito answers NotAuthorizedException both for a wrong password and for an expired
        // refresh token; only its message says which
        ("cognito-auth/src/error.rs", "contains(\"expired\")"),
        // a managed-identity endpoint answers 400 with no code when no identity is assigned
        ("cloud-sessions/src/azure/chain.rs", "contains(\"not been assigned\")"),
        // presentation, not a decision: a cause the message already says is not printed twice
        ("ccc/src/error.rs", "!self.message.contains(c.as_str())"),
        // the SDK's retry log events say they are one only in their message
        ("ccc/src/retries.rs", "fields.message.ends_with(\"retrying\")"),
    ];
    let reading_text = [
        ".to_string().starts_with(",
        ".to_string().ends_with(",
        ".to_string().contains(",
        "message.contains(",
        "message.starts_with(",
        "message.ends_with(",
        "msg.contains(",
        "msg.to_ascii_lowercase().contains(",
    ];
    let mut files = Vec::new();
    for krate in crates() {
        rust_files(&workspace_root().join("crates").join(krate).join("src"), &mut files);
    }
    let mut found = Vec::new();
    for f in files.into_iter().filter(|f| !f.ends_with("tests.rs")) {
        let shown = f.display().to_string();
        let src = non_test_source(&f);
        for (i, line) in src.lines().enumerate() {
            let reads = reading_text.iter().any(|p| line.contains(p));
            let allowed = service_words.iter().any(|(file, words)| shown.ends_with(file) && line.contains(words));
            if reads && !allowed && !line.trim_start().starts_with("//") {
                found.push(format!("{shown}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "code that decides by an error's text:\n{}", found.join("\n"));
}

/// The warm front (`ccc`, `crates/ccc/src/front.rs`) stays on cred-store alone: it reads the
/// note the full program left (the plan's entry, `cred_store::warm`) and serves it; it plans,
/// builds and calls nothing. Its speed is its reason to exist (no SDK client is linked in), and
/// a second source of "which credential" would be a second engine.
#[test]
fn the_warm_front_uses_cred_store_alone() {
    let src = std::fs::read_to_string(workspace_root().join("crates/ccc/src/front.rs")).unwrap();
    let allowed = ["std", "cred_store", "core_types", "crate", "self", "super", "clippy"];
    let mut found = Vec::new();
    for (i, line) in src.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        assert!(!code.trim_start().starts_with("mod "), "front.rs:{}: the front has no modules of its own", i + 1);
        // every path the front names starts with an allowed crate
        for (at, _) in code.match_indices("::") {
            let head: String = code[..at]
                .chars()
                .rev()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let starts_path =
                code[..at - head.len()].chars().last().is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':'));
            let turbofish = code[at..].starts_with("::<");
            let is_crate = !turbofish && head.chars().next().is_some_and(|c| c.is_ascii_lowercase());
            if starts_path && is_crate && !allowed.contains(&head.as_str()) {
                found.push(format!("front.rs:{}: {head}::", i + 1));
            }
        }
    }
    assert!(found.is_empty(), "the front names crates other than cred-store:\n{}", found.join("\n"));
    assert!(src.contains("cred_store::warm::serve("), "the front serves the plan's entry through cred_store::warm");
}
