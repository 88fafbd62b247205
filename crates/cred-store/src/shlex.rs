//! Python's `shlex.split` (POSIX mode, no comments): how botocore reads a `[profile …]` or
//! `[sso-session …]` header. A profile name we write must come back from it unchanged.

/// Why a header cannot be split (Python raises `ValueError`, and botocore then ignores the
/// section).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SplitError {
    /// A quote was opened and never closed.
    NoClosingQuotation,
    /// A backslash ended the text.
    NoEscapedCharacter,
}

/// `shlex.split(text)`: words separated by space, tab, CR or LF; `'…'` quotes everything,
/// `"…"` quotes all but `\"` and `\\`, and a backslash outside quotes escapes any character.
pub(crate) fn split(text: &str) -> Result<Vec<String>, SplitError> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Space,
        Word,
        Quote(char),
        Escape(Option<char>),
    }
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    let mut words = Vec::new();
    let mut word = String::new();
    let mut state = State::Space;
    // a word made only of quotes ("") is still a word
    let mut quoted = false;
    for c in text.chars() {
        state = match state {
            State::Space | State::Word if is_space(c) => {
                if state == State::Word {
                    words.push(std::mem::take(&mut word));
                    quoted = false;
                }
                State::Space
            }
            State::Space | State::Word => match c {
                '\\' => State::Escape(None),
                '\'' | '"' => {
                    quoted = true;
                    State::Quote(c)
                }
                _ => {
                    word.push(c);
                    State::Word
                }
            },
            State::Quote(q) if c == q => State::Word,
            State::Quote('"') if c == '\\' => State::Escape(Some('"')),
            State::Quote(q) => {
                word.push(c);
                State::Quote(q)
            }
            State::Escape(within) => {
                // inside double quotes a backslash escapes only the quote and itself
                if let Some(q) = within
                    && c != q
                    && c != '\\'
                {
                    word.push('\\');
                }
                word.push(c);
                match within {
                    Some(q) => State::Quote(q),
                    None => State::Word,
                }
            }
        };
    }
    match state {
        State::Quote(_) => Err(SplitError::NoClosingQuotation),
        State::Escape(_) => Err(SplitError::NoEscapedCharacter),
        State::Word => {
            words.push(word);
            Ok(words)
        }
        State::Space => {
            if quoted {
                words.push(word);
            }
            Ok(words)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Vec<String> {
        split(text).unwrap()
    }

    #[test]
    fn splits_as_python_does() {
        // each expectation is what Python 3.11's shlex.split printed for the same text
        assert_eq!(ok("profile foo"), ["profile", "foo"]);
        assert_eq!(ok("  profile \tfoo \t"), ["profile", "foo"]);
        assert_eq!(ok("profile \"a b\""), ["profile", "a b"]);
        assert_eq!(ok("profile 'it\"s'"), ["profile", "it\"s"]);
        assert_eq!(ok(r#"profile "a\"b\\c\d""#), ["profile", r#"a"b\c\d"#]);
        assert_eq!(ok(r"profile a\ b"), ["profile", "a b"]);
        assert_eq!(ok("profile prod\"\".Developer"), ["profile", "prod.Developer"]);
        assert_eq!(ok("profile ''"), ["profile", ""]);
        assert_eq!(ok("profile a#b"), ["profile", "a#b"]);
        assert_eq!(ok("profilefoo"), ["profilefoo"]);
        assert_eq!(ok(""), Vec::<String>::new());
        assert_eq!(split("profile Bob's sandbox"), Err(SplitError::NoClosingQuotation));
        assert_eq!(split("profile a\\"), Err(SplitError::NoEscapedCharacter));
    }
}
