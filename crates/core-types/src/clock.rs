use std::fmt;
use std::time::SystemTime;

/// A source of "now". Everything that decides on time takes one, so tests can move time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current wall-clock time.
    fn now(&self) -> SystemTime;
}

/// The real clock. The only place in the workspace allowed to call `SystemTime::now`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // this is the one sanctioned reader of wall time
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> SystemTime {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> SystemTime {
        (**self).now()
    }
}

#[cfg(any(test, feature = "test-util"))]
pub use manual::ManualClock;

#[cfg(any(test, feature = "test-util"))]
mod manual {
    use super::Clock;
    use std::sync::{Arc, Mutex, PoisonError};
    use std::time::{Duration, SystemTime};

    /// A clock that only moves when told to. Clones share the same time.
    #[derive(Debug, Clone)]
    pub struct ManualClock {
        now: Arc<Mutex<SystemTime>>,
    }

    impl ManualClock {
        /// A clock standing at `start`.
        pub fn new(start: SystemTime) -> Self {
            Self { now: Arc::new(Mutex::new(start)) }
        }

        /// A clock at a fixed, arbitrary instant (2026-01-01T00:00:00Z).
        pub fn fixed() -> Self {
            Self::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600))
        }

        /// Moves time forward.
        pub fn advance(&self, by: Duration) {
            let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
            *now += by;
        }

        /// Sets the time.
        pub fn set(&self, to: SystemTime) {
            *self.now.lock().unwrap_or_else(PoisonError::into_inner) = to;
        }
    }

    impl Clock for ManualClock {
        fn now(&self) -> SystemTime {
            *self.now.lock().unwrap_or_else(PoisonError::into_inner)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn manual_clock_moves_only_when_told_and_clones_share_time() {
        let clock = ManualClock::fixed();
        let other = clock.clone();
        let t0 = clock.now();
        assert_eq!(clock.now(), t0);
        other.advance(Duration::from_secs(90));
        assert_eq!(clock.now(), t0 + Duration::from_secs(90));
        clock.set(t0);
        assert_eq!(other.now(), t0);
    }

    #[test]
    fn system_clock_is_after_2025() {
        let t = SystemClock.now();
        assert!(t > SystemTime::UNIX_EPOCH + Duration::from_secs(1_735_689_600));
    }
}
