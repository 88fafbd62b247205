use super::*;

#[test]
fn a_typo_in_a_field_name_suggests_the_field() {
    let e = error_of("cloud_sessions:\n  - name: a\n    session_type: aws\n    regoin: us-east-1\n");
    assert!(e.contains("unknown field `regoin`, did you mean `region`?"), "{e}");
    assert_eq!(e.matches("cloud_sessions[0]").count(), 1, "the path once: {e}");
    assert_eq!(core_types::edit_distance("regoin", "region"), 2);
    assert_eq!(core_types::edit_distance("", "abc"), 3);
}

#[test]
fn debug_of_a_spec_hides_plaintext_secrets_but_shows_references() {
    let spec = SessionSpec {
        name: "s".into(),
        access_key_id: Some("AKIAEXAMPLE".into()),
        secret_access_key: Some("plain-secret-key".into()),
        session_token: Some("plain-session-token".into()),
        client_secret: Some("ENV/AZURE_SECRET".into()),
        ..SessionSpec::default()
    };
    let shown = format!("{spec:?}");
    assert!(!shown.contains("plain-secret-key") && !shown.contains("plain-session-token"), "{shown}");
    assert!(shown.contains("ENV/AZURE_SECRET") && shown.contains("[REDACTED]"), "{shown}");
}

fn error_of(yaml: &str) -> String {
    parse_config(yaml).unwrap_err().to_string()
}

#[test]
fn the_documented_shapes_parse() {
    let c = parse_config(
        "cloud_sessions:\n  - name: prod\n    session_type: aws\n    region: us-east-1\n    profile: production\n  - name: dev\n    session_type: aws\n    region: us-west-2\n    access_key_id: ENV/AWS_ACCESS_KEY_ID\n    secret_access_key: SEC/dev_secret\n  - name: role\n    session_type: aws\n    region: eu-west-1\n    role_arn: arn:aws:iam::123456789012:role/MyRole\n    session_name: app\n    source: prod\n  - name: az\n    session_type: azure\n    tenant_id: ENV/AZURE_TENANT_ID\n    use_managed_identity: true\nroles:\n  dev:\n    allowed_sessions: [dev]\n",
    )
    .unwrap();
    assert_eq!(c.file.cloud_sessions.len(), 4);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

/// An aws session `a` and an azure session `z`.
const TWO: &str =
    "cloud_sessions:\n  - name: a\n    session_type: aws\n    region: r\n  - name: z\n    session_type: azure\n";

#[test]
fn store_errors_name_the_yaml_path() {
    let cases = [
        ("      store_type: gcp\n", "secrets_manager.cloud_stores.s.store_type", "gcp"),
        ("      store_type: aws\n", "secrets_manager.cloud_stores.s.session_name", "missing"),
        (
            "      store_type: aws\n      session_name: nope\n",
            "secrets_manager.cloud_stores.s.session_name",
            "unknown session \"nope\"",
        ),
        (
            "      store_type: azure\n      session_name: a\n      vault_url: https://v.vault.azure.net/\n",
            "secrets_manager.cloud_stores.s.session_name",
            "not an azure session",
        ),
        ("      store_type: azure\n      session_name: z\n", "secrets_manager.cloud_stores.s.vault_url", "missing"),
        (
            "      store_type: azure\n      session_name: z\n      vault_url: http://v/\n",
            "secrets_manager.cloud_stores.s.vault_url",
            "https",
        ),
        (
            "      store_type: aws\n      session_name: a\n      vault_url: https://v/\n",
            "secrets_manager.cloud_stores.s.vault_url",
            "not a field of store_type aws",
        ),
        (
            "      store_type: local\n      session_name: a\n",
            "secrets_manager.cloud_stores.s.session_name",
            "not a field of store_type local",
        ),
    ];
    for (store, path, needle) in cases {
        let yaml = format!("{TWO}secrets_manager:\n  cloud_stores:\n    s:\n{store}");
        let e = error_of(&yaml);
        assert!(e.starts_with(path), "{yaml:?}: {e}");
        assert!(e.contains(needle), "{yaml:?}: {e}");
    }
}

#[test]
fn errors_name_the_yaml_path() {
    let cases = [
        (
            "cloud_sessions:\n  - name: a\n    session_type: aws\n    region: r\n    colour: blue\n",
            "cloud_sessions[0]",
            "colour",
        ),
        ("cloud_sessions:\n  - name: a\n    region: r\n", "cloud_sessions[0].session_type", "missing"),
        (
            "cloud_sessions:\n  - name: a\n    session_type: aws\n    role_arn: arn:aws:iam::1:role/r\n    team_store: true\n",
            "cloud_sessions[0].team_store",
            "no team store is declared",
        ),
        (
            "team_store:\n  url: ENV/DB\n  key: ENV/K\ncloud_sessions:\n  - name: a\n    session_type: aws\n    profile: p\n    team_store: true\n",
            "cloud_sessions[0].team_store",
            "only a session that refreshes",
        ),
        (
            "team_store:\n  url: ENV/DB\n  key: ENV/K\ncloud_sessions:\n  - name: a\n    session_type: azure\n    use_azure_cli: true\n    team_store: true\n",
            "cloud_sessions[0].team_store",
            "not a field",
        ),
        ("team_store:\n  url: ENV/DB\n", "team_store", "key"),
        ("cloud_sessions:\n  - name: a\n    session_type: gcp\n", "cloud_sessions[0].session_type", "gcp"),
        (
            "cloud_sessions:\n  - name: a\n    session_type: aws\n    region: r\n  - name: a\n    session_type: aws\n    region: r\n",
            "cloud_sessions[1].name",
            "duplicate",
        ),
        (
            "cloud_sessions:\n  - name: a\n    session_type: aws\n    region: r\n    tenant_id: t\n",
            "cloud_sessions[0].tenant_id",
            "not a field",
        ),
        (
            "cloud_sessions:\n  - name: a\n    session_type: aws\n    region: r\n    role_arn: arn:x\n",
            "cloud_sessions[0].session_name",
            "session_name",
        ),
        (
            "cloud_sessions:\n  - name: a\n    session_type: aws\n    region: r\n    access_key_id: ENV/K\n",
            "cloud_sessions[0].secret_access_key",
            "together",
        ),
        ("cloud_sessions:\n  - name: a\n    session_type: aws\n", "cloud_sessions[0].region", "region"),
        (
            "cloud_sessions:\n  - name: a\n    session_type: aws\n    region: r\nroles:\n  dev:\n    allowed_sessions: [b]\n",
            "roles.dev.allowed_sessions",
            "unknown session",
        ),
        ("cloud_sessions: [\n", "cloud_sessions", "unclosed bracket '[' (line 1, column 17)"),
        (
            "cloud_sessions:\n  - name: a\n    session_type: azure\n    use_managed_identity: true\n    use_azure_cli: true\n",
            "cloud_sessions[0].use_azure_cli",
            "choose one",
        ),
        (
            "cloud_sessions:\n  - name: a\n    session_type: azure\n    region: r\n",
            "cloud_sessions[0].region",
            "not a field",
        ),
        (
            "cloud_sessions:\n  - name: a\n    session_type: azure\n    authority_host: http://x\n",
            "cloud_sessions[0].authority_host",
            "https",
        ),
    ];
    for (yaml, path, needle) in cases {
        let e = error_of(yaml);
        assert!(e.starts_with(path), "{yaml:?}: {e}");
        assert!(e.contains(needle), "{yaml:?}: {e}");
    }
}

#[test]
fn plaintext_secrets_warn_without_echoing_them() {
    let c = parse_config("cloud_sessions:\n  - name: a\n    session_type: aws\n    region: r\n    access_key_id: AKIAPLAIN\n    secret_access_key: PlainTextSecret\n").unwrap();
    assert_eq!(c.warnings.len(), 1);
    assert!(c.warnings[0].contains("cloud_sessions[0].secret_access_key"));
    assert!(!c.warnings[0].contains("PlainTextSecret"));
}
