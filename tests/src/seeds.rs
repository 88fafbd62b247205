//! The design documents' own examples, as vendored (`tests/data/seeds/`, byte for byte).

/// Seed 004 (cloud sessions), as vendored.
pub const SEED_004: &str = include_str!("../data/seeds/004_c12450052a971303.txt");

/// Every `.. code-block:: yaml` of `document`, as written (its indentation kept).
pub fn yaml_examples(document: &str) -> Vec<String> {
    let lines: Vec<&str> = document.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == ".. code-block:: yaml" {
            let mut j = i + 1;
            while j < lines.len() && lines[j].trim().is_empty() {
                j += 1;
            }
            let start = j;
            while j < lines.len() && (lines[j].starts_with("    ") || lines[j].trim().is_empty()) {
                j += 1;
            }
            out.push(lines[start..j].join("\n") + "\n");
            i = j;
        } else {
            i += 1;
        }
    }
    out
}
