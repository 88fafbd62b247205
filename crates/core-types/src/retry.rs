use std::time::Duration;

/// How often and how patiently to retry a transient failure: exponential backoff
/// (`base * 2^attempt`, capped) with optional full jitter (a uniform draw in `[0, ceiling]`,
/// as the AWS architecture blog recommends, so a crowd of clients spreads out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    base_delay: Duration,
    max_delay: Duration,
    jitter: bool,
}

impl RetryPolicy {
    /// `max_retries` retries after the first attempt, starting from `base_delay`.
    pub const fn new(max_retries: u32, base_delay: Duration) -> Self {
        Self { max_retries, base_delay, max_delay: Duration::from_secs(20), jitter: true }
    }

    /// Never retry.
    pub const fn none() -> Self {
        Self::new(0, Duration::ZERO)
    }

    /// Caps any single delay.
    #[must_use]
    pub const fn with_max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// Turns jitter off (deterministic delays, for schedules a user reads).
    #[must_use]
    pub const fn with_jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// Retries allowed after the first attempt.
    pub const fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// Delay before the first retry (before jitter).
    pub const fn base_delay(&self) -> Duration {
        self.base_delay
    }

    /// The cap on any single delay.
    pub const fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// The wait before a retry whose backoff delay is `backoff` when the server asked for
    /// `retry_after` (HTTP `Retry-After`): the longer of the two. `None` when the server asks
    /// for more than this policy's maximum delay: give up now and report the wait it asked
    /// for, rather than sleep past the budget or call back early.
    pub fn honour_retry_after(&self, backoff: Duration, retry_after: Option<Duration>) -> Option<Duration> {
        match retry_after {
            Some(wait) if wait > self.max_delay => None,
            Some(wait) => Some(backoff.max(wait)),
            None => Some(backoff),
        }
    }

    /// The largest delay allowed before retry number `retry` (0-based): `base * 2^retry`,
    /// capped at the maximum delay.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// The delay before retry number `retry` (0-based), with jitter taken from `draw` (any
    /// uniformly distributed `u64`; jitter needs no secrecy, only spread).
    pub fn delay(&self, retry: u32, draw: u64) -> Duration {
        let ceiling = self.ceiling(retry);
        if !self.jitter || ceiling.is_zero() {
            return ceiling;
        }
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        // a uniform pick in [0, nanos]; the modulo bias is at most 2^-20 for any sane ceiling
        Duration::from_nanos(draw % nanos.saturating_add(1).max(1))
    }

    /// The delays of a whole retry sequence, seeded so it can be reproduced.
    pub fn backoff(&self, seed: u64) -> Backoff {
        Backoff { policy: *self, retry: 0, rng: fastrand::Rng::with_seed(seed) }
    }

    /// The delays of a retry sequence with fresh jitter: what a caller that does not need to
    /// reproduce the schedule wants. (Jitter only: `fastrand` is never used for a secret.)
    pub fn backoff_jittered(&self) -> Backoff {
        Backoff { policy: *self, retry: 0, rng: fastrand::Rng::new() }
    }

    /// The most time a whole sequence may spend sleeping.
    pub fn max_total_delay(&self) -> Duration {
        (0..self.max_retries).map(|r| self.ceiling(r)).sum()
    }
}

/// What a failed attempt means for the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No further attempt: an answer (a refusal, bad input) or a request that must not be
    /// sent twice.
    Final,
    /// Worth another attempt, after at least `after` when the server asked for a wait.
    Retry {
        /// The server's `Retry-After`, if it sent one.
        after: Option<Duration>,
    },
}

impl RetryPolicy {
    /// Runs `attempt` until it succeeds, `judge` calls a failure final, or the policy is
    /// spent: the one retry loop every crate uses. Waits come from this policy's backoff,
    /// lengthened to a server's `Retry-After` (one beyond the maximum delay ends the loop at
    /// once); `sleep` waits (the caller's runtime: no runtime here). Returns the outcome and
    /// the attempts made. An attempt deadline is the caller's, inside `attempt`.
    pub async fn run<T, E, A, AF, S, SF>(
        &self,
        mut attempt: A,
        judge: impl Fn(&E) -> Verdict,
        sleep: S,
    ) -> (Result<T, E>, u32)
    where
        A: FnMut() -> AF,
        AF: std::future::Future<Output = Result<T, E>>,
        S: Fn(Duration) -> SF,
        SF: std::future::Future<Output = ()>,
    {
        let mut delays = self.backoff_jittered();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let error = match attempt().await {
                Ok(v) => return (Ok(v), attempts),
                Err(e) => e,
            };
            let wait = match judge(&error) {
                Verdict::Final => None,
                Verdict::Retry { after } => delays.next().and_then(|d| self.honour_retry_after(d, after)),
            };
            match wait {
                Some(d) => sleep(d).await,
                None => return (Err(error), attempts),
            }
        }
    }
}

/// The wait an HTTP `Retry-After` header asks for (RFC 9110 §10.2.3): delta-seconds, or an
/// HTTP-date measured from the response's own `Date` header (the server's clock, so skew
/// between the clocks does not matter; a date without a `Date` is ignored). A date already
/// past means "now", zero. Anything else is `None`: the policy's own backoff applies.
pub fn retry_after(value: &str, date: Option<&str>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let sent = httpdate::parse_http_date(date?.trim()).ok()?;
    Some(at.duration_since(sent).unwrap_or(Duration::ZERO))
}

impl Default for RetryPolicy {
    /// Three retries from 500 ms, as the AWS SDKs' standard mode does.
    fn default() -> Self {
        Self::new(3, Duration::from_millis(500))
    }
}

/// An iterator over the delays before each retry; it ends when retries are used up.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: RetryPolicy,
    retry: u32,
    rng: fastrand::Rng,
}

impl Iterator for Backoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        if self.retry >= self.policy.max_retries {
            return None;
        }
        let delay = self.policy.delay(self.retry, self.rng.u64(..));
        self.retry += 1;
        Some(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_double_then_cap() {
        let p = RetryPolicy::new(10, Duration::from_millis(100)).with_max_delay(Duration::from_secs(1));
        let got: Vec<u128> = (0..6).map(|r| p.ceiling(r).as_millis()).collect();
        assert_eq!(got, [100, 200, 400, 800, 1000, 1000]);
        // huge retry numbers saturate instead of overflowing
        assert_eq!(p.ceiling(u32::MAX), Duration::from_secs(1));
    }

    #[test]
    fn jittered_delays_stay_within_bounds_over_1000_draws() {
        let p = RetryPolicy::new(8, Duration::from_millis(50)).with_max_delay(Duration::from_secs(2));
        let mut rng = fastrand::Rng::with_seed(7);
        for retry in 0..8 {
            let ceiling = p.ceiling(retry);
            let draws: Vec<Duration> = (0..1000).map(|_| p.delay(retry, rng.u64(..))).collect();
            assert!(draws.iter().all(|d| *d <= ceiling), "retry {retry} exceeded {ceiling:?}");
            // full jitter really spreads: both halves of the range are hit
            assert!(draws.iter().any(|d| *d < ceiling / 2), "retry {retry} never low");
            assert!(draws.iter().any(|d| *d > ceiling / 2), "retry {retry} never high");
        }
    }

    #[test]
    fn backoff_yields_exactly_max_retries_and_is_reproducible() {
        let p = RetryPolicy::new(4, Duration::from_millis(10));
        let a: Vec<_> = p.backoff(42).collect();
        let b: Vec<_> = p.backoff(42).collect();
        assert_eq!(a.len(), 4);
        assert_eq!(a, b);
        assert_eq!(RetryPolicy::none().backoff(1).count(), 0);
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_as_a_date_after_the_responses_own() {
        let sent = Some("Wed, 21 Oct 2026 07:28:00 GMT");
        assert_eq!(retry_after("1", sent), Some(Duration::from_secs(1)));
        assert_eq!(retry_after(" 120 ", None), Some(Duration::from_secs(120)));
        assert_eq!(retry_after("Wed, 21 Oct 2026 07:28:30 GMT", sent), Some(Duration::from_secs(30)));
        // the obsolete RFC 850 and asctime forms are HTTP-dates too
        assert_eq!(retry_after("Wednesday, 21-Oct-26 07:29:00 GMT", sent), Some(Duration::from_secs(60)));
        assert_eq!(retry_after("Wed Oct 21 07:28:05 2026", sent), Some(Duration::from_secs(5)));
        // a date already past: retry now (the policy's backoff is the floor)
        assert_eq!(retry_after("Wed, 21 Oct 2026 07:00:00 GMT", sent), Some(Duration::ZERO));
        // a date with no Date header to measure it from: the policy decides
        assert_eq!(retry_after("Wed, 21 Oct 2026 07:28:30 GMT", None), None);
        assert_eq!(retry_after("Wed, 21 Oct 2026 07:28:30 GMT", Some("yesterday")), None);
        assert_eq!(retry_after("-1", sent), None);
        assert_eq!(retry_after("soon", sent), None);
        assert_eq!(retry_after("", sent), None);
    }

    #[test]
    fn retry_after_lengthens_a_delay_within_the_cap_and_beyond_it_gives_up() {
        let p = RetryPolicy::new(3, Duration::from_millis(20)).with_max_delay(Duration::from_secs(2));
        let ms = Duration::from_millis;
        assert_eq!(p.honour_retry_after(ms(20), None), Some(ms(20)));
        assert_eq!(p.honour_retry_after(ms(20), Some(ms(1000))), Some(ms(1000)));
        // a shorter Retry-After never shortens the backoff
        assert_eq!(p.honour_retry_after(ms(800), Some(ms(100))), Some(ms(800)));
        assert_eq!(p.honour_retry_after(ms(20), Some(ms(2000))), Some(ms(2000)));
        assert_eq!(p.honour_retry_after(ms(20), Some(ms(2001))), None);
        assert_eq!(p.max_delay(), ms(2000));
    }

    /// Polls a future that never waits on anything (the runner's own futures don't).
    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    #[test]
    fn the_runner_retries_what_the_judge_allows_for_as_long_as_the_policy_lasts() {
        let p =
            RetryPolicy::new(3, Duration::from_millis(10)).with_jitter(false).with_max_delay(Duration::from_secs(1));
        let slept = std::cell::RefCell::new(Vec::new());
        let sleep = |d: Duration| {
            slept.borrow_mut().push(d);
            std::future::ready(())
        };
        // transient every time: 1 + 3 attempts, the policy's delays
        let (r, n) =
            block_on(p.run(|| std::future::ready(Err::<(), _>("busy")), |_| Verdict::Retry { after: None }, sleep));
        assert_eq!((r, n), (Err("busy"), 4));
        assert_eq!(*slept.borrow(), [Duration::from_millis(10), Duration::from_millis(20), Duration::from_millis(40)]);
        // a final answer: one attempt, no sleep
        slept.borrow_mut().clear();
        let (_, n) = block_on(p.run(|| std::future::ready(Err::<(), _>("no")), |_| Verdict::Final, sleep));
        assert_eq!(n, 1);
        assert!(slept.borrow().is_empty());
        // success on the second attempt; a server's Retry-After lengthens the wait
        let mut calls = 0;
        let (r, n) = block_on(p.run(
            || {
                calls += 1;
                std::future::ready(if calls < 2 { Err("busy") } else { Ok(7) })
            },
            |_| Verdict::Retry { after: Some(Duration::from_millis(500)) },
            sleep,
        ));
        assert_eq!((r, n), (Ok(7), 2));
        assert_eq!(slept.borrow().last(), Some(&Duration::from_millis(500)));
        // a Retry-After beyond the policy's maximum delay ends the loop at once
        slept.borrow_mut().clear();
        let (_, n) = block_on(p.run(
            || std::future::ready(Err::<(), _>("busy")),
            |_| Verdict::Retry { after: Some(Duration::from_secs(5)) },
            sleep,
        ));
        assert_eq!(n, 1);
        assert!(slept.borrow().is_empty());
    }

    #[test]
    fn without_jitter_delays_grow() {
        let p = RetryPolicy::new(3, Duration::from_secs(5)).with_jitter(false);
        let got: Vec<_> = p.backoff(0).collect();
        assert_eq!(got, [Duration::from_secs(5), Duration::from_secs(10), Duration::from_secs(20)]);
        assert_eq!(p.max_total_delay(), Duration::from_secs(35));
    }
}
