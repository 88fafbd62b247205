//! RFC 3339 timestamps as AWS tools write and read them (`2026-01-01T00:00:00Z`).

use std::time::{Duration, SystemTime};

use chrono::{DateTime, SecondsFormat, Utc};

/// Formats whole seconds in UTC with a `Z` suffix, the form botocore and the SDKs parse.
pub fn format_rfc3339(t: SystemTime) -> String {
    let secs = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    DateTime::<Utc>::from_timestamp(secs, 0)
        .map(|dt| dt.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

/// Parses RFC 3339 (any offset, optional fraction); `None` when malformed.
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let dt = DateTime::parse_from_rfc3339(s.trim()).ok()?;
    let secs = dt.timestamp();
    let nanos = dt.timestamp_subsec_nanos();
    if secs >= 0 {
        Some(SystemTime::UNIX_EPOCH + Duration::new(secs as u64, nanos))
    } else {
        SystemTime::UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs()))
    }
}

/// Seconds since the Unix epoch (negative before it).
pub fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// The instant at `secs` seconds since the Unix epoch.
pub fn from_unix_seconds(secs: i64) -> SystemTime {
    if secs >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs as u64)
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_accepts_offsets_and_fractions() {
        let t = from_unix_seconds(1_767_225_600);
        assert_eq!(format_rfc3339(t), "2026-01-01T00:00:00Z");
        assert_eq!(parse_rfc3339("2026-01-01T00:00:00Z"), Some(t));
        assert_eq!(parse_rfc3339("2026-01-01T01:00:00+01:00"), Some(t));
        assert_eq!(parse_rfc3339("2026-01-01T00:00:00.000000+00:00"), Some(t));
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(unix_seconds(t), 1_767_225_600);
        // sub-second parts are dropped when writing
        assert_eq!(format_rfc3339(t + Duration::from_millis(999)), "2026-01-01T00:00:00Z");
    }
}
