//! Printing data as tables or JSON.

use std::time::SystemTime;

/// Prints a JSON value on stdout.
pub fn print_json(value: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
}

/// Prints `label: value` rows aligned.
pub fn print_rows(rows: &[(&str, String)]) {
    let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    for (label, value) in rows {
        println!("{label:<width$}  {value}");
    }
}

/// An expiry for people: RFC 3339, or "never".
pub fn expiry(t: Option<SystemTime>) -> String {
    t.map(cred_store::format_rfc3339).unwrap_or_else(|| "never".to_owned())
}
