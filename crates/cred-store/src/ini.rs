//! A lossless INI document in the dialect botocore reads (`~/.aws/credentials`, `~/.aws/config`).
//!
//! Every line is kept as written (including its line ending), so reading then writing an
//! unchanged file is byte-identical, and an edit touches only the lines it must.

use std::fmt;

/// Why a line could not be parsed (1-based line number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The 1-based line.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Blank,
    Comment,
    Section(String),
    Key {
        key: String,
        value: String,
    },
    /// An indented line continuing the value of the key above (nested config values).
    Continuation,
}

#[derive(Debug, Clone)]
struct Line {
    raw: String,
    kind: Kind,
}

/// A parsed INI file that remembers every byte.
#[derive(Clone)]
pub struct IniDocument {
    lines: Vec<Line>,
    newline: &'static str,
}

impl fmt::Debug for IniDocument {
    // Values may be secrets: show the structure only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IniDocument").field("sections", &self.section_names()).finish_non_exhaustive()
    }
}

impl IniDocument {
    /// An empty document.
    pub fn empty() -> Self {
        Self { lines: Vec::new(), newline: "\n" }
    }

    /// Parses text; any line that is not blank, a comment, a `[section]`, a `key = value`
    /// inside a section or an indented continuation is an error naming the line.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let mut lines = Vec::new();
        let mut in_section = false;
        let mut after_key = false;
        for (i, raw) in text.split_inclusive('\n').enumerate() {
            let content = raw.trim_end_matches(['\n', '\r']);
            let trimmed = content.trim();
            let err = |message: &str| ParseError { line: i + 1, message: message.to_owned() };
            let kind = if trimmed.is_empty() {
                Kind::Blank
            } else if trimmed.starts_with('#') || trimmed.starts_with(';') {
                Kind::Comment
            } else if content.starts_with([' ', '\t']) && after_key {
                Kind::Continuation
            } else if let Some(rest) = trimmed.strip_prefix('[') {
                let Some(end) = rest.find(']') else {
                    return Err(err("section header has no closing `]`"));
                };
                let name = rest[..end].trim();
                if name.is_empty() {
                    return Err(err("section header has an empty name"));
                }
                in_section = true;
                Kind::Section(name.to_owned())
            } else if let Some(pos) = trimmed.find(['=', ':']) {
                if !in_section {
                    return Err(err("`key = value` line before any [section] header"));
                }
                let key = trimmed[..pos].trim();
                if key.is_empty() {
                    return Err(err("line has a value but no key"));
                }
                Kind::Key { key: key.to_owned(), value: trimmed[pos + 1..].trim().to_owned() }
            } else {
                return Err(err("expected `[section]`, `key = value`, a comment or a blank line"));
            };
            after_key = matches!(kind, Kind::Key { .. } | Kind::Continuation);
            lines.push(Line { raw: raw.to_owned(), kind });
        }
        Ok(Self { lines, newline })
    }

    /// The names of the sections, in order (a repeated header is listed once).
    pub fn section_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for l in &self.lines {
            if let Kind::Section(n) = &l.kind
                && !names.contains(n)
            {
                names.push(n.clone());
            }
        }
        names
    }

    /// Whether a section exists.
    pub fn has_section(&self, section: &str) -> bool {
        self.lines.iter().any(|l| matches!(&l.kind, Kind::Section(n) if n == section))
    }

    /// The `key = value` pairs of a section (all headers of that name merged, later wins
    /// for a repeated key as botocore does), or `None` if it does not exist.
    pub fn section(&self, section: &str) -> Option<Vec<(String, String)>> {
        if !self.has_section(section) {
            return None;
        }
        let mut out: Vec<(String, String)> = Vec::new();
        let mut inside = false;
        for l in &self.lines {
            match &l.kind {
                Kind::Section(n) => inside = n == section,
                Kind::Key { key, value } if inside => {
                    if let Some(slot) = out.iter_mut().find(|(k, _)| k == key) {
                        slot.1.clone_from(value);
                    } else {
                        out.push((key.clone(), value.clone()));
                    }
                }
                _ => {}
            }
        }
        Some(out)
    }

    /// One value of a section.
    pub fn get(&self, section: &str, key: &str) -> Option<String> {
        self.section(section)?.into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Line index ranges `[header, end)` of every block with this section name.
    fn blocks(&self, section: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.lines.len() {
            if matches!(&self.lines[i].kind, Kind::Section(n) if n == section) {
                let start = i;
                i += 1;
                while i < self.lines.len() && !matches!(self.lines[i].kind, Kind::Section(_)) {
                    i += 1;
                }
                out.push((start, i));
            } else {
                i += 1;
            }
        }
        out
    }

    /// The last key or continuation line of a block, or its header.
    fn last_content(&self, (start, end): (usize, usize)) -> usize {
        (start..end)
            .rev()
            .find(|&j| matches!(self.lines[j].kind, Kind::Key { .. } | Kind::Continuation))
            .unwrap_or(start)
    }

    fn ensure_trailing_newline(&mut self) {
        if let Some(last) = self.lines.last_mut()
            && !last.raw.ends_with('\n')
        {
            last.raw.push_str(self.newline);
        }
    }

    fn key_line(&self, key: &str, value: &str) -> Line {
        Line {
            raw: format!("{key} = {value}{}", self.newline),
            kind: Kind::Key { key: key.to_owned(), value: value.to_owned() },
        }
    }

    /// Sets `key = value` in a section: replaces the existing line in place (dropping its
    /// continuation lines), or appends it after the section's last key, or creates the
    /// section at the end of the file.
    pub fn set(&mut self, section: &str, key: &str, value: &str) {
        let blocks = self.blocks(section);
        // replace in the last block that has the key (the value botocore would read)
        for &(start, end) in blocks.iter().rev() {
            if let Some(j) =
                (start + 1..end).find(|&j| matches!(&self.lines[j].kind, Kind::Key { key: k, .. } if k == key))
            {
                let ending = if self.lines[j].raw.ends_with('\n') { self.newline } else { "" };
                let mut line = self.key_line(key, value);
                line.raw = format!("{key} = {value}{ending}");
                self.lines[j] = line;
                let k = j + 1;
                while k < self.lines.len() && self.lines[k].kind == Kind::Continuation {
                    self.lines.remove(k);
                }
                return;
            }
        }
        if let Some(&block) = blocks.last() {
            let at = self.last_content(block);
            if at + 1 == self.lines.len() {
                self.ensure_trailing_newline();
            }
            let line = self.key_line(key, value);
            self.lines.insert(at + 1, line);
            return;
        }
        self.ensure_trailing_newline();
        // Always a separator before a new section, so removing it later (which takes the
        // separator with it) gives back the file exactly as it was.
        if !self.lines.is_empty() {
            self.lines.push(Line { raw: self.newline.to_owned(), kind: Kind::Blank });
        }
        self.lines.push(Line { raw: format!("[{section}]{}", self.newline), kind: Kind::Section(section.to_owned()) });
        let line = self.key_line(key, value);
        self.lines.push(line);
    }

    /// Removes one key (and its continuation lines) from a section. Returns whether it existed.
    pub fn remove_key(&mut self, section: &str, key: &str) -> bool {
        let mut removed = false;
        for (start, end) in self.blocks(section).into_iter().rev() {
            let mut j = end;
            while j > start + 1 {
                j -= 1;
                if matches!(&self.lines[j].kind, Kind::Key { key: k, .. } if k == key) {
                    let mut k = j + 1;
                    while k < self.lines.len() && self.lines[k].kind == Kind::Continuation {
                        k += 1;
                    }
                    self.lines.drain(j..k);
                    removed = true;
                }
            }
        }
        removed
    }

    /// Removes a whole section: its header, keys and the blank lines right after them.
    /// Comments after its last key are kept (they usually introduce the next section).
    /// Returns whether it existed.
    pub fn remove_section(&mut self, section: &str) -> bool {
        let blocks = self.blocks(section);
        for &block in blocks.iter().rev() {
            let (start, end) = block;
            let mut stop = self.last_content(block) + 1;
            while stop < end && self.lines[stop].kind == Kind::Blank {
                stop += 1;
            }
            // Removing the last lines of a file after a blank separator: drop that separator too.
            if stop == self.lines.len() && start > 0 && self.lines[start - 1].kind == Kind::Blank {
                self.lines.drain(start - 1..stop);
            } else {
                self.lines.drain(start..stop);
            }
        }
        !blocks.is_empty()
    }

    /// The exact text of a section's blocks (for tests that check nothing else moved).
    pub fn section_text(&self, section: &str) -> String {
        self.blocks(section).into_iter().flat_map(|(s, e)| self.lines[s..e].iter().map(|l| l.raw.as_str())).collect()
    }
}

impl fmt::Display for IniDocument {
    /// The document's text, byte for byte as read plus the edits made.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for l in &self.lines {
            f.write_str(&l.raw)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# my creds\n[default]\naws_access_key_id = AKIA1\naws_secret_access_key=s1\n\n; work\n[work]\nregion = eu-west-1\ns3 =\n  max_concurrent_requests = 10\n\n[other]\nx = 1";

    #[test]
    fn unchanged_round_trip_is_byte_identical() {
        for text in [SAMPLE, "", "\n\n", "[a]\r\nk = v\r\n", "[a]\nk=v"] {
            assert_eq!(IniDocument::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn reads_values_and_nested_continuations() {
        let doc = IniDocument::parse(SAMPLE).unwrap();
        assert_eq!(doc.section_names(), ["default", "work", "other"]);
        assert_eq!(doc.get("default", "aws_secret_access_key").as_deref(), Some("s1"));
        assert_eq!(doc.get("work", "s3").as_deref(), Some(""));
        assert_eq!(doc.get("other", "x").as_deref(), Some("1"));
        assert!(doc.section("missing").is_none());
    }

    #[test]
    fn set_replaces_in_place_and_appends_new_keys_after_the_last_key() {
        let mut doc = IniDocument::parse(SAMPLE).unwrap();
        doc.set("default", "aws_access_key_id", "AKIA2");
        doc.set("work", "output", "json");
        let text = doc.to_string();
        assert!(text.contains("[default]\naws_access_key_id = AKIA2\naws_secret_access_key=s1\n"));
        assert!(text.contains("  max_concurrent_requests = 10\noutput = json\n\n[other]"));
        assert!(text.starts_with("# my creds\n"));
    }

    #[test]
    fn set_creates_a_section_at_the_end_even_without_final_newline() {
        let mut doc = IniDocument::parse(SAMPLE).unwrap();
        doc.set("new", "k", "v");
        assert!(doc.to_string().ends_with("[other]\nx = 1\n\n[new]\nk = v\n"), "{doc}");
        let mut empty = IniDocument::empty();
        empty.set("default", "a", "b");
        assert_eq!(empty.to_string(), "[default]\na = b\n");
    }

    #[test]
    fn remove_section_keeps_comments_for_the_next_one() {
        let mut doc = IniDocument::parse(SAMPLE).unwrap();
        assert!(doc.remove_section("default"));
        assert_eq!(
            doc.to_string(),
            "# my creds\n; work\n[work]\nregion = eu-west-1\ns3 =\n  max_concurrent_requests = 10\n\n[other]\nx = 1"
        );
        assert!(doc.remove_section("other"));
        assert!(doc.to_string().ends_with("max_concurrent_requests = 10\n"), "{doc}");
        assert!(!doc.remove_section("other"));
    }

    #[test]
    fn remove_key_drops_its_continuations() {
        let mut doc = IniDocument::parse(SAMPLE).unwrap();
        assert!(doc.remove_key("work", "s3"));
        assert_eq!(doc.section_text("work"), "[work]\nregion = eu-west-1\n\n");
    }

    #[test]
    fn crlf_files_stay_crlf() {
        let mut doc = IniDocument::parse("[a]\r\nk = v\r\n").unwrap();
        doc.set("b", "x", "y");
        assert_eq!(doc.to_string(), "[a]\r\nk = v\r\n\r\n[b]\r\nx = y\r\n");
    }

    #[test]
    fn malformed_lines_are_errors_with_line_numbers() {
        let cases = [
            ("[default\nk=v", 1, "closing"),
            ("k = v\n[a]", 1, "before any"),
            ("[a]\njust words\n", 2, "expected"),
            ("[a]\n= v\n", 2, "no key"),
            ("[ ]\n", 1, "empty name"),
        ];
        for (text, line, needle) in cases {
            let e = IniDocument::parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}");
            assert!(e.message.contains(needle), "{text:?}: {}", e.message);
        }
    }

    #[test]
    fn debug_shows_no_values() {
        let doc = IniDocument::parse(SAMPLE).unwrap();
        let shown = format!("{doc:?}");
        assert!(!shown.contains("AKIA1") && !shown.contains("s1"), "{shown}");
    }
}
