//! RFC 3339 timestamps as AWS tools write and read them (`2026-01-01T00:00:00Z`).

use std::time::{Duration, SystemTime};

use chrono::{DateTime, SecondsFormat, Utc};

/// Formats whole seconds in UTC with a `Z` suffix, the form botocore and the SDKs parse.
pub fn format_rfc3339(t: SystemTime) -> String {
    let secs = unix_seconds(t);
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

/// Seconds since the Unix epoch (negative before it; saturating, never a panic).
pub fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// The last second an expiry written by a person or a tool can sensibly name
/// (9999-12-31T23:59:59Z).
const LATEST: i64 = 253_402_300_799;

/// The instant at `secs` seconds since the Unix epoch, when it is one a credential can expire
/// at (1970 to 9999); `None` for anything else (a damaged or planted entry).
pub fn checked_unix_seconds(secs: i64) -> Option<SystemTime> {
    (0..=LATEST).contains(&secs).then(|| SystemTime::UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs()))
}

/// The instant at `secs` seconds since the Unix epoch, clamped to 1970..9999 (never a panic:
/// an absurd stored time reads as long past or far off, not as a crash).
pub fn from_unix_seconds(secs: i64) -> SystemTime {
    checked_unix_seconds(secs.clamp(0, LATEST)).unwrap_or(SystemTime::UNIX_EPOCH)
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

    #[test]
    fn times_out_of_range_are_refused_or_clamped_never_a_panic() {
        for secs in [i64::MIN, -1, LATEST + 1, i64::MAX] {
            assert_eq!(checked_unix_seconds(secs), None, "{secs}");
            let _ = format_rfc3339(from_unix_seconds(secs));
        }
        assert_eq!(from_unix_seconds(i64::MIN), SystemTime::UNIX_EPOCH);
        assert_eq!(unix_seconds(from_unix_seconds(i64::MAX)), LATEST);
        let far = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::MAX / 2);
        assert_eq!(unix_seconds(far), i64::MAX);
    }
}
