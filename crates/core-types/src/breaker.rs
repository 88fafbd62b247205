//! A circuit breaker: after a run of transient failures, calls fail fast for a cool-down
//! instead of each waiting out its own retries against a service that is down; then one
//! trial call is let through, and its outcome closes the circuit or opens it again.
//!
//! Pure state: the caller passes the time and reports each outcome, so it holds no clock and
//! does no I/O.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CircuitState {
    /// Calls go through; this many transient failures in a row so far.
    Closed {
        /// Consecutive transient failures.
        failures: u32,
    },
    /// Calls fail fast until this instant.
    Open {
        /// When a trial call may go through.
        until: SystemTime,
    },
    /// The cool-down is over: one trial call decides (others fail fast meanwhile).
    HalfOpen {
        /// Whether the trial call is out.
        trial_out: bool,
    },
}

/// What a breaker says about a call about to be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Admission {
    /// Make the call, then [`CircuitBreaker::record`] its outcome.
    Go,
    /// Do not: the circuit is open (until this instant, or until the trial call ends).
    FailFast {
        /// When a call may be tried again (for messages and `Retry-After`-like waits).
        retry_at: SystemTime,
    },
}

/// A call's outcome, as the breaker counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// It worked.
    Success,
    /// It failed in a way worth retrying (unavailable, throttled, timed out): counted.
    Transient,
    /// It failed for good (refused, not configured): the service answered, so not counted
    /// against it, and a run of transient failures is not broken either.
    Final,
}

/// Opens after `threshold` transient failures in a row, stays open `cool_down`, then lets one
/// trial through. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct CircuitBreaker {
    threshold: u32,
    cool_down: Duration,
    state: Mutex<CircuitState>,
}

impl CircuitBreaker {
    /// A closed breaker (`threshold` is at least 1).
    pub fn new(threshold: u32, cool_down: Duration) -> Self {
        Self { threshold: threshold.max(1), cool_down, state: Mutex::new(CircuitState::Closed { failures: 0 }) }
    }

    /// Consecutive transient failures that open the circuit.
    pub fn threshold(&self) -> u32 {
        self.threshold
    }

    /// How long it stays open.
    pub fn cool_down(&self) -> Duration {
        self.cool_down
    }

    /// Where it stands at `now` (an open circuit whose cool-down is over reads as half-open).
    pub fn state(&self, now: SystemTime) -> CircuitState {
        match *self.lock() {
            CircuitState::Open { until } if now >= until => CircuitState::HalfOpen { trial_out: false },
            s => s,
        }
    }

    /// Whether a call may be made at `now`. After the cool-down the first caller gets the
    /// trial; the others fail fast until its outcome is recorded.
    pub fn admit(&self, now: SystemTime) -> Admission {
        let mut state = self.lock();
        match *state {
            CircuitState::Closed { .. } => Admission::Go,
            CircuitState::Open { until } if now < until => Admission::FailFast { retry_at: until },
            CircuitState::Open { .. } | CircuitState::HalfOpen { trial_out: false } => {
                *state = CircuitState::HalfOpen { trial_out: true };
                Admission::Go
            }
            CircuitState::HalfOpen { trial_out: true } => Admission::FailFast { retry_at: now + self.cool_down },
        }
    }

    /// Records the outcome of a call that was admitted at `now`'s side of it.
    pub fn record(&self, now: SystemTime, outcome: CallOutcome) {
        let mut state = self.lock();
        *state = match (*state, outcome) {
            (_, CallOutcome::Success) => CircuitState::Closed { failures: 0 },
            (CircuitState::Closed { failures }, CallOutcome::Transient) if failures + 1 >= self.threshold => {
                CircuitState::Open { until: now + self.cool_down }
            }
            (CircuitState::Closed { failures }, CallOutcome::Transient) => {
                CircuitState::Closed { failures: failures + 1 }
            }
            // the trial failed: open again for a full cool-down
            (CircuitState::HalfOpen { .. }, CallOutcome::Transient) => {
                CircuitState::Open { until: now + self.cool_down }
            }
            // a final failure is an answer: the trial shows the service is there
            (CircuitState::HalfOpen { .. }, CallOutcome::Final) => CircuitState::Closed { failures: 0 },
            (s, _) => s,
        };
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CircuitState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: SystemTime = SystemTime::UNIX_EPOCH;

    fn secs(n: u64) -> SystemTime {
        T0 + Duration::from_secs(n)
    }

    #[test]
    fn opens_after_the_threshold_and_a_trial_closes_it() {
        let b = CircuitBreaker::new(3, Duration::from_secs(30));
        for _ in 0..2 {
            assert_eq!(b.admit(T0), Admission::Go);
            b.record(T0, CallOutcome::Transient);
        }
        assert_eq!(b.state(T0), CircuitState::Closed { failures: 2 });
        b.record(T0, CallOutcome::Transient);
        assert_eq!(b.admit(secs(29)), Admission::FailFast { retry_at: secs(30) });
        assert_eq!(b.state(secs(30)), CircuitState::HalfOpen { trial_out: false });
        assert_eq!(b.admit(secs(30)), Admission::Go, "the trial");
        assert!(matches!(b.admit(secs(31)), Admission::FailFast { .. }), "one trial at a time");
        b.record(secs(31), CallOutcome::Success);
        assert_eq!(b.state(secs(31)), CircuitState::Closed { failures: 0 });
    }

    /// The breaker against a plain model, over random runs of calls and outcomes.
    mod model {
        use super::*;
        use proptest::prelude::*;

        fn outcome(n: u8) -> CallOutcome {
            // mostly transient failures, so the circuit opens often
            match n % 10 {
                0..=5 => CallOutcome::Transient,
                6 | 7 => CallOutcome::Success,
                _ => CallOutcome::Final,
            }
        }

        proptest! {
            #[test]
            fn matches_the_model(threshold in 1u32..6, cool in 1u64..60, steps in proptest::collection::vec((0u64..20, any::<u8>()), 1..300)) {
                let b = CircuitBreaker::new(threshold, Duration::from_secs(cool));
                // the model: consecutive transient failures, and when the circuit opened
                let (mut run, mut open_until): (u32, Option<u64>) = (0, None);
                let mut now = 0u64;
                for (after, o) in steps {
                    let outcome = outcome(o);
                    now += after;
                    let admitted = b.admit(secs(now));
                    match open_until {
                        Some(until) if now < until => {
                            prop_assert_eq!(admitted, Admission::FailFast { retry_at: secs(until) });
                            continue;
                        }
                        _ => prop_assert_eq!(admitted, Admission::Go),
                    }
                    let trial = open_until.is_some();
                    b.record(secs(now), outcome);
                    match outcome {
                        CallOutcome::Success => (run, open_until) = (0, None),
                        CallOutcome::Final if trial => (run, open_until) = (0, None),
                        CallOutcome::Final => {}
                        CallOutcome::Transient if trial => open_until = Some(now + cool),
                        CallOutcome::Transient => {
                            run += 1;
                            if run >= threshold {
                                (run, open_until) = (0, Some(now + cool));
                            }
                        }
                    }
                    // open only after `threshold` failures in a row (or a failed trial)
                    let state = b.state(secs(now));
                    match open_until {
                        Some(u) if now < u => prop_assert_eq!(state, CircuitState::Open { until: secs(u) }),
                        Some(_) => prop_assert_eq!(state, CircuitState::HalfOpen { trial_out: false }),
                        None => prop_assert_eq!(state, CircuitState::Closed { failures: run }),
                    }
                }
            }
        }
    }
}
