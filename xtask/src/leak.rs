//! The secret-leak scan after the test suite: every secret the tests listed
//! (`target/leak-scan/secrets-*.txt`, written by `ccc_tests::leak`) is searched for in every
//! log the suite wrote at trace level (`log-*`: test processes and `ccc` runs).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

const KEY: usize = 8;

/// Scans `dir`; `Err` names each leak (the secret shown by its first characters only).
pub fn scan(dir: &Path) -> Result<String, String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok("leak scan: no logs (nothing ran)".into());
    };
    let mut secrets = BTreeSet::new();
    let mut logs = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("secrets-") {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            secrets.extend(text.lines().filter(|l| l.len() >= KEY).map(str::to_owned));
        } else if name.starts_with("log-") {
            logs.push(e.path());
        }
    }
    // index the secrets by their first KEY bytes, then look every log position up
    let mut index: HashMap<&[u8], Vec<&str>> = HashMap::new();
    for s in &secrets {
        index.entry(&s.as_bytes()[..KEY]).or_default().push(s);
    }
    let (mut lines, mut bytes) = (0usize, 0usize);
    let mut found = Vec::new();
    for log in &logs {
        let text = std::fs::read(log).unwrap_or_default();
        bytes += text.len();
        lines += text.iter().filter(|b| **b == b'\n').count();
        for i in 0..text.len().saturating_sub(KEY - 1) {
            let Some(candidates) = index.get(&text[i..i + KEY]) else { continue };
            for s in candidates {
                if text[i..].starts_with(s.as_bytes()) {
                    let line = text[..i].iter().filter(|b| **b == b'\n').count() + 1;
                    let shown: String = s.chars().take(4).collect();
                    found.push(format!(
                        "{}:{line}: a secret ({shown}…, {} chars) appears in the log",
                        log.display(),
                        s.len()
                    ));
                }
            }
        }
    }
    let summary = format!(
        "leak scan: {} secrets searched in {} logs ({lines} lines, {} KiB)",
        secrets.len(),
        logs.len(),
        bytes / 1024
    );
    if found.is_empty() {
        Ok(format!("{summary}: none found"))
    } else {
        found.truncate(50);
        Err(format!("{summary}: {} leak(s)\n{}", found.len(), found.join("\n")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_secret_in_any_log_fails_the_scan() {
        let dir = std::env::temp_dir().join(format!("ccc-leak-scan-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("secrets-1.txt"), "sk-0123456789abcdef\nshort\n").unwrap();
        std::fs::write(dir.join("log-1.log"), "INFO all fine\nDEBUG nothing to see, short\n").unwrap();
        let ok = scan(&dir).unwrap();
        assert!(ok.contains("1 secrets searched in 1 logs") && ok.ends_with("none found"), "{ok}");
        std::fs::write(dir.join("log-child-2.txt"), "TRACE header authorization: Bearer sk-0123456789abcdef\n")
            .unwrap();
        let e = scan(&dir).unwrap_err();
        assert!(e.contains("log-child-2.txt:1") && e.contains("sk-0…, 19 chars"), "{e}");
        assert!(!e.contains("sk-0123456789abcdef"), "the report must not print the secret");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
