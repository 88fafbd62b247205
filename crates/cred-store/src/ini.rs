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
    /// An indented line continuing the value of the key above (nested config values),
    /// stripped as configparser strips it.
    Continuation {
        text: String,
    },
}

#[derive(Debug, Clone)]
struct Line {
    raw: String,
    kind: Kind,
}

/// Lines as Python reads a text file: each ends at `\n`, `\r\n` or a bare `\r` (kept).
fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        let mut i = start;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => {
                    i += 1;
                    break;
                }
                b'\r' => {
                    i += if bytes.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
                    break;
                }
                _ => i += 1,
            }
        }
        let line = &text[start..i];
        start = i;
        Some(line)
    })
}

/// Python's whitespace (`str.isspace`, the regex `\s`): Unicode's, and the four
/// separators U+001C..U+001F.
pub(crate) fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// configparser's section header: the text between the first `[` and the last `]` of the
/// stripped line (at least one character), as written.
fn header(trimmed: &str) -> Option<&str> {
    let rest = trimmed.strip_prefix('[')?;
    let end = rest.rfind(']')?;
    (end > 0).then(|| &rest[..end])
}

/// Key names as botocore sees them (configparser's `optionxform` lower-cases them).
fn normalise_key(key: &str) -> String {
    key.to_lowercase()
}

/// Why a key or value cannot be written: it would change the file's meaning for botocore
/// (a CR or LF starts a new line — an injected `credential_process` is code execution on
/// the next `aws` call).
pub fn check_entry(key: &str, value: &str) -> Result<(), String> {
    if key.is_empty()
        || key.trim() != key
        || key.starts_with(['#', ';', '['])
        || key.contains(['=', ':'])
        || key.chars().any(char::is_control)
    {
        return Err(format!(
            "invalid key {key:?}: use letters, digits and '_' (no '=', ':', brackets or control characters)"
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(format!(
            "the value for {key} contains a control character (CR, LF, ...); it would change the file's meaning and is refused"
        ));
    }
    Ok(())
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

    /// Parses text exactly as botocore does (Python's `configparser.RawConfigParser`): a line
    /// ends at `\n`, `\r\n` or a bare `\r`; whitespace is Python's (a no-break space counts,
    /// and indentation is counted in characters); an indented line continues a value only when
    /// it is indented deeper than its key (blank and comment lines in between do not end the
    /// value); a header is everything between the first `[` and the last `]` of the line, as
    /// written; key names are case-insensitive and split at the first `=` or `:`. What
    /// botocore refuses is an error naming the line: a line that is none of these, a repeated
    /// section or a repeated key in one section. `[DEFAULT]`, whose keys configparser copies
    /// into every section, is refused too.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let mut lines = Vec::new();
        // configparser's `cursect`, `indent_level` and `optname`: the section being read, the
        // indentation of the last key or header, and whether a deeper line continues a value
        let mut section: Option<String> = None;
        let mut indent_level = 0usize;
        let mut in_value = false;
        let mut nested = false;
        let mut seen_sections: Vec<String> = Vec::new();
        let mut seen_keys: Vec<String> = Vec::new();
        for (i, raw) in split_lines(text).enumerate() {
            let trimmed = raw.trim_matches(py_space);
            let err = |message: String| ParseError { line: i + 1, message };
            let indent = raw.chars().take_while(|&c| py_space(c)).count();
            let kind = if trimmed.is_empty() {
                Kind::Blank
            } else if trimmed.starts_with('#') || trimmed.starts_with(';') {
                Kind::Comment
            } else if in_value && indent > indent_level {
                // under a key with no value of its own, botocore reads `sub_key = value` lines
                // (`s3 =` and its settings) and refuses the file when one has no `=`
                if nested && !trimmed.contains('=') {
                    return Err(err(format!(
                        "`{trimmed}` is under a key with nested settings but has no `=`; botocore refuses such a file"
                    )));
                }
                Kind::Continuation { text: trimmed.to_owned() }
            } else if let Some(name) = header(trimmed) {
                if name == "DEFAULT" {
                    return Err(err(
                        "[DEFAULT] is refused: botocore copies its keys into every profile; move them into the profiles that need them".into(),
                    ));
                }
                if seen_sections.iter().any(|s| s == name) {
                    return Err(err(format!(
                        "section [{name}] appears twice; botocore refuses such a file: merge the two"
                    )));
                }
                seen_sections.push(name.to_owned());
                seen_keys.clear();
                section = Some(name.to_owned());
                (indent_level, in_value) = (indent, false);
                Kind::Section(name.to_owned())
            } else if let Some(pos) = trimmed.find(['=', ':'])
                && !(trimmed.starts_with('[') && section.is_none())
            {
                let Some(sect) = &section else {
                    return Err(err("`key = value` line before any [section] header".into()));
                };
                let key = trimmed[..pos].trim_matches(py_space);
                if key.is_empty() {
                    return Err(err("line has a value but no key".into()));
                }
                let key = normalise_key(key);
                if seen_keys.contains(&key) {
                    return Err(err(format!(
                        "key {key} appears twice in [{sect}]; botocore refuses such a file: keep one"
                    )));
                }
                seen_keys.push(key.clone());
                (indent_level, in_value) = (indent, true);
                let value = trimmed[pos + 1..].trim_matches(py_space).to_owned();
                nested = value.is_empty();
                Kind::Key { key, value }
            } else if trimmed.starts_with('[') {
                return Err(err("section header is empty or has no closing `]`".into()));
            } else if section.is_none() {
                return Err(err("expected a [section] header first".into()));
            } else {
                return Err(err("expected `[section]`, `key = value`, a comment or a blank line".into()));
            };
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

    /// The `key = value` pairs of a section, values as configparser gives them (a value
    /// continued on indented lines is joined with `\n`, blank lines inside it kept, the end
    /// trimmed), or `None` if it does not exist.
    pub fn section(&self, section: &str) -> Option<Vec<(String, String)>> {
        let start = self.lines.iter().position(|l| matches!(&l.kind, Kind::Section(n) if n == section))?;
        let mut out: Vec<(String, String)> = Vec::new();
        for l in &self.lines[start + 1..] {
            match &l.kind {
                Kind::Section(_) => break,
                Kind::Key { key, value } => out.push((key.clone(), value.clone())),
                Kind::Continuation { text } => {
                    if let Some((_, v)) = out.last_mut() {
                        v.push('\n');
                        v.push_str(text);
                    }
                }
                // an empty line inside a value is part of it, a comment line is not
                Kind::Blank => {
                    if let Some((_, v)) = out.last_mut() {
                        v.push('\n');
                    }
                }
                Kind::Comment => {}
            }
        }
        for (_, v) in &mut out {
            v.truncate(v.trim_end_matches(py_space).len());
        }
        Some(out)
    }

    /// One value of a section (key names compare case-insensitively, as in botocore).
    pub fn get(&self, section: &str, key: &str) -> Option<String> {
        let key = normalise_key(key);
        self.section(section)?.into_iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The index just past the value of the key on line `j`: its continuation lines, and
    /// the blank or comment lines between them (configparser keeps reading the value
    /// across those).
    fn value_end(&self, j: usize) -> usize {
        let mut end = j + 1;
        let mut k = j + 1;
        while k < self.lines.len() {
            match self.lines[k].kind {
                Kind::Continuation { .. } => {
                    k += 1;
                    end = k;
                }
                Kind::Blank | Kind::Comment => k += 1,
                _ => break,
            }
        }
        end
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
            .find(|&j| matches!(self.lines[j].kind, Kind::Key { .. } | Kind::Continuation { .. }))
            .unwrap_or(start)
    }

    fn ensure_trailing_newline(&mut self) {
        if let Some(last) = self.lines.last_mut()
            && !last.raw.ends_with('\n')
            && !last.raw.ends_with('\r')
        {
            last.raw.push_str(self.newline);
        }
    }

    fn key_line(&self, key: &str, value: &str) -> Line {
        Line {
            raw: format!("{key} = {value}{}", self.newline),
            kind: Kind::Key { key: normalise_key(key), value: value.to_owned() },
        }
    }

    /// Sets `key = value` in a section: replaces the existing line in place (dropping its
    /// continuation lines, and any duplicate of the key, which botocore would refuse), or
    /// appends it after the section's last key, or creates the section at the end of the
    /// file. Keys match case-insensitively. A key or value that would change the file's
    /// meaning (control characters, `=` in a key, ...) is refused and nothing changes.
    pub fn set(&mut self, section: &str, key: &str, value: &str) -> Result<(), String> {
        check_entry(key, value)?;
        let wanted = normalise_key(key);
        let blocks = self.blocks(section);
        let is_key = |l: &Line| matches!(&l.kind, Kind::Key { key: k, .. } if *k == wanted);
        // replace in the last block that has the key (the value botocore would read)
        let found =
            blocks.iter().rev().find_map(|&(start, end)| (start + 1..end).rev().find(|&j| is_key(&self.lines[j])));
        if let Some(j) = found {
            let ending =
                if self.lines[j].raw.ends_with('\n') || self.lines[j].raw.ends_with('\r') { self.newline } else { "" };
            // keep the line's indentation and the key as the user spelt it
            let raw = &self.lines[j].raw;
            let indent = &raw[..raw.len() - raw.trim_start().len()];
            let spelt = raw.trim_start().split(['=', ':']).next().unwrap_or(key).trim_end();
            let line = Line {
                raw: format!("{indent}{spelt} = {value}{ending}"),
                kind: Kind::Key { key: wanted.clone(), value: value.to_owned() },
            };
            // duplicates of the key elsewhere in the section go (botocore refuses a file
            // that has them); spans are replaced from the last one back so indices hold
            let mut spans: Vec<(usize, usize, Option<Line>)> = blocks
                .iter()
                .flat_map(|&(start, end)| start + 1..end)
                .filter(|&i| i != j && is_key(&self.lines[i]))
                .map(|i| (i, self.value_end(i), None))
                .collect();
            spans.push((j, self.value_end(j), Some(line)));
            spans.sort_by_key(|span| std::cmp::Reverse(span.0));
            for (from, to, replacement) in spans {
                self.lines.splice(from..to, replacement);
            }
            return Ok(());
        }
        if let Some(&block) = blocks.last() {
            let at = self.last_content(block);
            let at = if at == block.0 { at } else { self.value_end(at) - 1 };
            if at + 1 == self.lines.len() {
                self.ensure_trailing_newline();
            }
            // a new key takes the indentation of the key it follows: deeper would make it a
            // continuation of that key's value, shallower is fine but looks wrong
            let indent = (block.0 + 1..=at)
                .rev()
                .find_map(|i| match &self.lines[i].kind {
                    Kind::Key { .. } => {
                        let raw = &self.lines[i].raw;
                        Some(raw[..raw.len() - raw.trim_start().len()].to_owned())
                    }
                    _ => None,
                })
                .unwrap_or_default();
            let mut line = self.key_line(key, value);
            line.raw.insert_str(0, &indent);
            self.lines.insert(at + 1, line);
            return Ok(());
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
        Ok(())
    }

    /// Removes one key (every copy of it, case-insensitively, with its continuation lines)
    /// from a section. Returns whether it existed.
    pub fn remove_key(&mut self, section: &str, key: &str) -> bool {
        let wanted = normalise_key(key);
        let mut removed = false;
        for (start, end) in self.blocks(section).into_iter().rev() {
            let mut j = end;
            while j > start + 1 {
                j -= 1;
                if matches!(&self.lines[j].kind, Kind::Key { key: k, .. } if *k == wanted) {
                    let stop = self.value_end(j);
                    self.lines.drain(j..stop);
                    removed = true;
                }
            }
        }
        removed
    }

    /// Turns `key`'s line in `section` (and its continuation lines) into `# ` comments, the
    /// last followed by ` ; why`. Returns whether the key was there.
    pub fn comment_out(&mut self, section: &str, key: &str, why: &str) -> bool {
        let wanted = normalise_key(key);
        for (start, end) in self.blocks(section) {
            let Some(j) =
                (start + 1..end).find(|&j| matches!(&self.lines[j].kind, Kind::Key { key: k, .. } if *k == wanted))
            else {
                continue;
            };
            let stop = self.value_end(j);
            for i in j..stop {
                let line = &mut self.lines[i];
                if matches!(line.kind, Kind::Key { .. } | Kind::Continuation { .. }) {
                    let ending = &line.raw[line.raw.trim_end_matches(['\n', '\r']).len()..];
                    let text = line.raw.trim_end_matches(['\n', '\r']).trim_start();
                    let note = if i + 1 == stop { format!(" ; {why}") } else { String::new() };
                    line.raw = format!("# {text}{note}{ending}");
                    line.kind = Kind::Comment;
                }
            }
            return true;
        }
        false
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
        assert_eq!(doc.get("work", "s3").as_deref(), Some("\nmax_concurrent_requests = 10"));
        assert_eq!(doc.get("other", "x").as_deref(), Some("1"));
        assert!(doc.section("missing").is_none());
    }

    #[test]
    fn set_replaces_in_place_and_appends_new_keys_after_the_last_key() {
        let mut doc = IniDocument::parse(SAMPLE).unwrap();
        doc.set("default", "aws_access_key_id", "AKIA2").unwrap();
        doc.set("work", "output", "json").unwrap();
        let text = doc.to_string();
        assert!(text.contains("[default]\naws_access_key_id = AKIA2\naws_secret_access_key=s1\n"));
        assert!(text.contains("  max_concurrent_requests = 10\noutput = json\n\n[other]"));
        assert!(text.starts_with("# my creds\n"));
    }

    #[test]
    fn set_creates_a_section_at_the_end_even_without_final_newline() {
        let mut doc = IniDocument::parse(SAMPLE).unwrap();
        doc.set("new", "k", "v").unwrap();
        assert!(doc.to_string().ends_with("[other]\nx = 1\n\n[new]\nk = v\n"), "{doc}");
        let mut empty = IniDocument::empty();
        empty.set("default", "a", "b").unwrap();
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
        doc.set("b", "x", "y").unwrap();
        assert_eq!(doc.to_string(), "[a]\r\nk = v\r\n\r\n[b]\r\nx = y\r\n");
    }

    #[test]
    fn malformed_lines_are_errors_with_line_numbers() {
        let cases = [
            ("[default\nk=v", 1, "closing"),
            ("k = v\n[a]", 1, "before any"),
            ("[a]\njust words\n", 2, "expected"),
            ("[a]\n= v\n", 2, "no key"),
            ("[a]\nk = 1\n[b]\n[a]\n", 4, "appears twice"),
            ("[a]\nk = 1\nK : 2\n", 3, "appears twice"),
            ("[DEFAULT]\nk = 1\n", 1, "DEFAULT"),
            ("[]\n", 1, "empty"),
        ];
        for (text, line, needle) in cases {
            let e = IniDocument::parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}");
            assert!(e.message.contains(needle), "{text:?}: {}", e.message);
        }
    }

    #[test]
    fn headers_indentation_and_values_follow_configparser() {
        // headers as written, cut at the last `]`: `[ profile p ]` is not `profile p`
        let doc = IniDocument::parse("[ profile p ]\n[profile q]x] # note\n[ ]\n").unwrap();
        assert_eq!(doc.section_names(), [" profile p ", "profile q]x", " "]);
        // indentation in characters: a no-break space is one, so a key indented by two
        // spaces after one indented by a no-break space continues its value
        let doc = IniDocument::parse("[p]\n\u{a0}region = eu-west-1\n  output = json\n").unwrap();
        assert_eq!(doc.get("p", "region").as_deref(), Some("eu-west-1\noutput = json"));
        assert_eq!(doc.get("p", "output"), None);
        // blank lines inside a value are kept, comment lines are not, the end is trimmed
        let doc = IniDocument::parse("[p]\ns3 =\n  a = 1\n\n  # c\n  b = 2\n\n").unwrap();
        assert_eq!(doc.get("p", "s3").as_deref(), Some("\na = 1\n\nb = 2"));
        // values are stripped of Python's whitespace (U+001F included), not cut at comments
        let doc = IniDocument::parse("[p]\nk =\u{1f} v # not a comment \u{a0}\n").unwrap();
        assert_eq!(doc.get("p", "k").as_deref(), Some("v # not a comment"));
    }

    #[test]
    fn debug_shows_no_values() {
        let doc = IniDocument::parse(SAMPLE).unwrap();
        let shown = format!("{doc:?}");
        assert!(!shown.contains("AKIA1") && !shown.contains("s1"), "{shown}");
    }
}
