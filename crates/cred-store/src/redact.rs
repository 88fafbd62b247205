//! Connection URLs fit for messages.

/// A connection URL with any password replaced, for messages.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut out = match base.find("://") {
        Some(scheme_end) => {
            let rest = &base[scheme_end + 3..];
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => match rest[..at].split_once(':') {
                    Some((user, _)) => format!("{}{user}:****{}", &base[..scheme_end + 3], &rest[at..]),
                    None => base.to_owned(),
                },
                None => base.to_owned(),
            }
        }
        None => base.to_owned(),
    };
    if let Some(q) = query {
        // libpq's URI parameters that carry a secret
        let params: Vec<String> = q
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if ["password", "sslpassword"].contains(&k.to_ascii_lowercase().as_str()) => {
                    format!("{k}=****")
                }
                _ => pair.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted() {
        assert_eq!(redact_url("postgres://u:pw@h:5/db"), "postgres://u:****@h:5/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("/tmp/x.sqlite"), "/tmp/x.sqlite");
        assert_eq!(
            redact_url("postgres://h/db?user=u&password=hunter2&sslmode=require"),
            "postgres://h/db?user=u&password=****&sslmode=require"
        );
        assert_eq!(
            redact_url("postgresql://u:pw@h/db?PassWord=x&sslpassword=y"),
            "postgresql://u:****@h/db?PassWord=****&sslpassword=****"
        );
        // an @ after the authority is not userinfo
        assert_eq!(redact_url("postgres://h/db?application_name=a@b"), "postgres://h/db?application_name=a@b");
    }
}
