//! Property tests: lossless INI editing and no panics on garbage.

use proptest::prelude::*;

use core_types::{AwsCredentials, ExposeSecret};
use cred_store::{AwsFiles, IniDocument, Paths};

#[derive(Debug, Clone)]
enum Item {
    Key(String, String),
    Comment(String),
    Blank,
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        4 => ("[a-z_]{1,12}", "[A-Za-z0-9/+=:. -]{0,24}").prop_map(|(k, v)| Item::Key(k, v.trim().to_owned())),
        1 => "[ -~]{0,30}".prop_map(Item::Comment),
        1 => Just(Item::Blank),
    ]
}

/// A random valid credentials file: optional leading comments, unique sections and keys, mixed
/// comments and blank lines, LF or CRLF, with or without a final newline.
fn document() -> impl Strategy<Value = (String, Vec<String>)> {
    (
        proptest::collection::btree_map("[a-z][a-z0-9-]{0,10}", proptest::collection::vec(item(), 0..6), 0..6),
        proptest::collection::vec("[ -~]{0,20}", 0..3),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(sections, header, crlf, final_newline)| {
            let nl = if crlf { "\r\n" } else { "\n" };
            let mut text = String::new();
            for c in header {
                text.push_str(&format!("# {c}{nl}"));
            }
            for (name, items) in &sections {
                text.push_str(&format!("[{name}]{nl}"));
                // a key once per section: botocore refuses a file that repeats one
                let mut seen = std::collections::BTreeSet::new();
                for it in items {
                    match it {
                        Item::Key(k, v) if seen.insert(k.clone()) => text.push_str(&format!("{k} = {v}{nl}")),
                        Item::Key(..) => {}
                        Item::Comment(c) => text.push_str(&format!(";{c}{nl}")),
                        Item::Blank => text.push_str(nl),
                    }
                }
            }
            if !final_newline && text.ends_with(nl) {
                text.truncate(text.len() - nl.len());
            }
            (text, sections.keys().cloned().collect())
        })
}

/// Non-blank lines outside `section`'s own lines (its header through its last key; comments
/// after its last key introduce what follows and are kept).
fn lines_outside(text: &str, section: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let header = |l: &str| l.trim().strip_prefix('[').and_then(|r| r.split(']').next()).map(|n| n.trim().to_owned());
    let mut skip = vec![false; lines.len()];
    let mut i = 0;
    while i < lines.len() {
        if header(lines[i]).as_deref() == Some(section) {
            let mut end = i + 1;
            while end < lines.len() && header(lines[end]).is_none() {
                end += 1;
            }
            let is_key = |l: &str| {
                let t = l.trim();
                !t.is_empty() && !t.starts_with('#') && !t.starts_with(';')
            };
            let last = (i..end).rev().find(|&k| k > i && is_key(lines[k])).unwrap_or(i);
            skip[i..=last].iter_mut().for_each(|s| *s = true);
            i = end;
        } else {
            i += 1;
        }
    }
    lines.iter().zip(skip).filter(|(l, s)| !s && !l.trim().is_empty()).map(|(l, _)| (*l).to_owned()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn unchanged_documents_round_trip_byte_for_byte((text, _) in document()) {
        prop_assert_eq!(IniDocument::parse(&text).unwrap().to_string(), text);
    }

    #[test]
    fn save_and_remove_touch_only_their_section(
        (text, names) in document(),
        target in "[a-z][a-z0-9-]{0,10}",
        pick_existing in any::<prop::sample::Index>(),
        remove in any::<bool>(),
        secret in "[A-Za-z0-9/+]{1,40}",
    ) {
        let target = if names.is_empty() || pick_existing.index(4) == 0 { target } else { names[pick_existing.index(names.len())].clone() };
        let before = IniDocument::parse(&text).unwrap();
        let mut doc = before.clone();
        if remove {
            doc.remove_section(&target);
        } else {
            doc.set(&target, "aws_access_key_id", "AKIAPROP").unwrap();
            doc.set(&target, "aws_secret_access_key", &secret).unwrap();
        }
        let after_text = doc.to_string();
        let after = IniDocument::parse(&after_text).expect("edited file parses");
        // Every line outside the target's header and keys is still there, in order.
        prop_assert_eq!(lines_outside(&text, &target), lines_outside(&after_text, &target));
        for name in names.iter().filter(|n| **n != target) {
            prop_assert_eq!(before.section(name), after.section(name), "section {} changed", name);
        }
        if remove {
            prop_assert!(!after.has_section(&target));
        } else {
            prop_assert_eq!(after.get(&target, "aws_secret_access_key"), Some(secret.clone()));
        }
        // comments all survive a save (removal may drop only the removed section's own lines)
        if !remove {
            let comments = |t: &str| t.lines().filter(|l| l.starts_with('#') || l.starts_with(';')).map(str::to_owned).collect::<Vec<_>>();
            prop_assert_eq!(comments(&text), comments(&after_text));
        }
    }

    #[test]
    fn garbage_never_panics(text in "\\PC{0,200}") {
        let _ = IniDocument::parse(&text);
        let _ = cred_store::from_credential_process_json(&text);
    }

    #[test]
    fn garbage_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(mut doc) = IniDocument::parse(&text) {
            doc.set("x", "k", "v").unwrap();
            doc.remove_section("x");
            let _ = doc.to_string();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Through the real files: save then remove a profile leaves every other byte as it was.
    #[test]
    fn files_round_trip_through_aws_files((text, names) in document(), secret in "[A-Za-z0-9/+]{1,40}") {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths::under_home(tmp.path());
        std::fs::create_dir_all(paths.credentials_file.parent().unwrap()).unwrap();
        std::fs::write(&paths.credentials_file, &text).unwrap();
        let files = AwsFiles::new(&paths);
        let target = "ccc-proptest-profile";
        prop_assume!(!names.iter().any(|n| n == target));
        files.save_credentials(target, &AwsCredentials::new("AKIAPROP", secret.clone(), None, None)).unwrap();
        let saved = files.load_credentials(target).unwrap().unwrap();
        prop_assert_eq!(saved.secret_access_key().expose_secret(), secret.as_str());
        files.remove_credentials(target).unwrap();
        let now = std::fs::read_to_string(&paths.credentials_file).unwrap();
        // a file without a final newline gains one; nothing else changes
        let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let expected = if text.is_empty() || text.ends_with('\n') { text.clone() } else { format!("{text}{nl}") };
        prop_assert_eq!(now, expected);
    }
}
