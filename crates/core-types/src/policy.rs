use std::time::{Duration, SystemTime};

use crate::clock::Clock;

/// Helpers over an optional expiry instant (`None` = never expires).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry(pub Option<SystemTime>);

impl Expiry {
    /// Time left before expiry at `now`; `None` when it never expires, zero when past.
    pub fn remaining(self, now: SystemTime) -> Option<Duration> {
        self.0.map(|at| at.duration_since(now).unwrap_or(Duration::ZERO))
    }

    /// Whether it has expired at `now` (an instant equal to the expiry counts as expired).
    pub fn is_expired(self, now: SystemTime) -> bool {
        self.0.is_some_and(|at| at <= now)
    }
}

/// What a [`RefreshPolicy`] says about a credential at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// More than the refresh window left (or no expiry): use it.
    Fresh,
    /// Still valid, but inside the refresh window: refresh now, and serve it if refresh fails.
    RefreshDue,
    /// Expired: it must not be served.
    Expired,
}

/// When to refresh: a credential is refreshed once less than `window` of its life is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    window: Duration,
}

impl RefreshPolicy {
    /// Refresh when less than `window` is left before expiry.
    pub const fn new(window: Duration) -> Self {
        Self { window }
    }

    /// The refresh window.
    pub const fn window(&self) -> Duration {
        self.window
    }

    /// Classifies an expiry at the clock's current time.
    pub fn freshness(&self, expiry: Option<SystemTime>, clock: &dyn Clock) -> Freshness {
        self.freshness_at(expiry, clock.now())
    }

    /// Classifies an expiry at `now`.
    pub fn freshness_at(&self, expiry: Option<SystemTime>, now: SystemTime) -> Freshness {
        let expiry = Expiry(expiry);
        match expiry.remaining(now) {
            None => Freshness::Fresh,
            Some(_) if expiry.is_expired(now) => Freshness::Expired,
            Some(left) if left <= self.window => Freshness::RefreshDue,
            Some(_) => Freshness::Fresh,
        }
    }

    /// Whether the credential should be refreshed (inside the window or expired).
    pub fn needs_refresh(&self, expiry: Option<SystemTime>, now: SystemTime) -> bool {
        self.freshness_at(expiry, now) != Freshness::Fresh
    }
}

impl Default for RefreshPolicy {
    /// Five minutes, what the AWS SDKs use for their own credential caches.
    fn default() -> Self {
        Self::new(Duration::from_secs(300))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;

    const WINDOW: Duration = Duration::from_secs(600);

    #[test]
    fn window_edges() {
        let clock = ManualClock::fixed();
        let now = clock.now();
        let policy = RefreshPolicy::new(WINDOW);
        let at = |secs: u64| Some(now + Duration::from_secs(secs));

        assert_eq!(policy.freshness(None, &clock), Freshness::Fresh);
        assert_eq!(policy.freshness(at(601), &clock), Freshness::Fresh);
        // exactly the window left: refresh is due (the window is inclusive)
        assert_eq!(policy.freshness(at(600), &clock), Freshness::RefreshDue);
        assert_eq!(policy.freshness(at(1), &clock), Freshness::RefreshDue);
        // exactly at expiry: expired
        assert_eq!(policy.freshness(at(0), &clock), Freshness::Expired);
        assert_eq!(policy.freshness(Some(now - Duration::from_secs(5)), &clock), Freshness::Expired);
    }

    #[test]
    fn moving_the_clock_moves_the_decision() {
        let clock = ManualClock::fixed();
        let policy = RefreshPolicy::new(WINDOW);
        let expiry = Some(clock.now() + Duration::from_secs(3600));
        assert!(!policy.needs_refresh(expiry, clock.now()));
        clock.advance(Duration::from_secs(3000));
        assert_eq!(policy.freshness(expiry, &clock), Freshness::RefreshDue);
        clock.advance(Duration::from_secs(600));
        assert_eq!(policy.freshness(expiry, &clock), Freshness::Expired);
    }

    #[test]
    fn expiry_helpers() {
        let now = ManualClock::fixed().now();
        assert_eq!(Expiry(None).remaining(now), None);
        assert!(!Expiry(None).is_expired(now));
        assert_eq!(Expiry(Some(now - Duration::from_secs(1))).remaining(now), Some(Duration::ZERO));
        assert_eq!(Expiry(Some(now + Duration::from_secs(7))).remaining(now), Some(Duration::from_secs(7)));
    }

    #[test]
    fn zero_window_refreshes_only_at_expiry() {
        let now = ManualClock::fixed().now();
        let policy = RefreshPolicy::new(Duration::ZERO);
        assert_eq!(policy.freshness_at(Some(now + Duration::from_secs(1)), now), Freshness::Fresh);
        assert_eq!(policy.freshness_at(Some(now), now), Freshness::Expired);
    }
}
