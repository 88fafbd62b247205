use super::*;
#[cfg(feature = "aws-sdk")]
use aws_credential_types::provider::ProvideCredentials;
use core_types::{AwsCredentials, ExposeSecret, ManualClock};
use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const UP: u8 = 0;
const DOWN: u8 = 1;
const REFUSING: u8 = 2;

/// Counts upstream calls; fails while `fail` says so (down: Unavailable; refusing:
/// NotAuthorized).
struct Counting {
    calls: Arc<AtomicUsize>,
    fail: Arc<std::sync::atomic::AtomicU8>,
    clock: ManualClock,
    lifetime: Duration,
}

impl CredentialSource for Counting {
    type Output = AwsCredentials;
    type Error = Error;
    fn name(&self) -> Cow<'_, str> {
        "counting".into()
    }
    async fn fetch(&self) -> Result<AwsCredentials> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
        match self.fail.load(Ordering::SeqCst) {
            DOWN => {
                return Err(Error::Refresh {
                    name: "up".into(),
                    message: "upstream down".into(),
                    kind: ErrorKind::Unavailable,
                    source: None,
                });
            }
            REFUSING => {
                return Err(Error::Refresh {
                    name: "up".into(),
                    message: "refresh token revoked".into(),
                    kind: ErrorKind::NotAuthorized,
                    source: None,
                });
            }
            _ => {}
        }
        Ok(AwsCredentials::new(format!("ASIA{n}"), "s", Some("t".into()), Some(self.clock.now() + self.lifetime)))
    }
}

fn setup() -> (Refreshing<Counting>, Arc<AtomicUsize>, Arc<std::sync::atomic::AtomicU8>, ManualClock) {
    let clock = ManualClock::fixed();
    let calls = Arc::new(AtomicUsize::new(0));
    let fail = Arc::new(std::sync::atomic::AtomicU8::new(UP));
    let source = Counting {
        calls: calls.clone(),
        fail: fail.clone(),
        clock: clock.clone(),
        lifetime: Duration::from_secs(3600),
    };
    let cache = Refreshing::builder(source)
        .refresh_window(RefreshPolicy::new(Duration::from_secs(300)))
        .clock(Arc::new(clock.clone()))
        .build();
    (cache, calls, fail, clock)
}

/// A fleet level that never answers.
struct DownFleet;

impl FleetEntry<AwsCredentials> for DownFleet {
    fn location(&self) -> String {
        "down-fleet".into()
    }
    fn lock(&self, _wait: Duration) -> crate::BoxFuture<'_, Result<Box<dyn crate::FleetHold<AwsCredentials>>>> {
        Box::pin(async {
            Err(Error::Team {
                location: "down-fleet".into(),
                message: "no answer".into(),
                kind: ErrorKind::Unavailable,
            })
        })
    }
}

#[tokio::test]
async fn an_unreachable_fleet_serves_what_is_valid_then_refreshes_alone_or_fails_as_told() {
    for alone in [true, false] {
        let clock = ManualClock::fixed();
        let calls = Arc::new(AtomicUsize::new(0));
        let fail = Arc::new(std::sync::atomic::AtomicU8::new(UP));
        let source = Counting { calls: calls.clone(), fail, clock: clock.clone(), lifetime: Duration::from_secs(900) };
        let cache = Refreshing::builder(source)
            .refresh_window(RefreshPolicy::new(Duration::from_secs(300)))
            .clock(Arc::new(clock.clone()))
            .fleet(DownFleet)
            .refresh_alone_when_fleet_down(alone)
            .build();
        let got = cache.get().await;
        assert_eq!(got.is_ok(), alone, "nothing valid yet: refreshed alone, or failed");
        assert_eq!(calls.load(Ordering::SeqCst), usize::from(alone));
        if let Err(e) = got {
            assert_eq!(e.kind(), ErrorKind::Unavailable);
            assert!(e.to_string().contains("only through the team store"), "{e}");
            continue;
        }
        // due, not expired: served as it is, nothing refreshed
        clock.advance(Duration::from_secs(700));
        assert!(cache.get().await.is_ok());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}

#[tokio::test]
async fn fresh_values_are_served_without_upstream_calls() {
    let (cache, calls, _, clock) = setup();
    let first = cache.get().await.unwrap();
    clock.advance(Duration::from_secs(3000));
    assert_eq!(cache.get().await.unwrap(), first);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_callers_cause_one_refresh() {
    let (cache, calls, _, clock) = setup();
    cache.get().await.unwrap();
    clock.advance(Duration::from_secs(3400)); // inside the window
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let c = cache.clone();
            tokio::spawn(async move { c.get().await })
        })
        .collect();
    for t in tasks {
        let creds = t.await.unwrap().unwrap();
        assert_eq!(creds.key_hint(), "ASIA…");
        assert_eq!(creds.access_key_id().expose_secret(), "ASIA2");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// An always-up source of credentials living `lifetime`, and its call counter.
fn counting(clock: &ManualClock, lifetime: Duration) -> (Counting, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    (Counting { calls: calls.clone(), fail: Default::default(), clock: clock.clone(), lifetime }, calls)
}

/// A shared entry whose disk is full: it reads nothing and every write fails.
struct FullDisk;

impl SharedEntry<AwsCredentials> for FullDisk {
    fn location(&self) -> String {
        "a full disk".into()
    }
    fn refresh_lock(&self) -> PathBuf {
        std::env::temp_dir().join(format!("ccc-full-disk-test-{}", std::process::id()))
    }
    fn load(&self) -> Result<Option<(AwsCredentials, Option<SystemTime>)>> {
        Ok(None)
    }
    fn store(&self, _: &AwsCredentials, _: SystemTime) -> Result<()> {
        Err(Error::io("write", "/full", std::io::Error::from_raw_os_error(28)))
    }
    fn remove(&self) -> Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_refresh_that_cannot_be_saved_still_returns_the_fresh_value() {
    let clock = ManualClock::fixed();
    let (source, calls) = counting(&clock, Duration::from_secs(3600));
    let cache = Refreshing::builder(source).clock(Arc::new(clock)).shared(FullDisk).build();
    // the upstream refresh happened (a rotating token may be spent): the caller gets it
    let got = cache.get().await.expect("the fresh value, though it could not be saved");
    assert_eq!(got.access_key_id().expose_secret(), "ASIA1");
    assert_eq!(cache.get().await.unwrap(), got, "kept in memory");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn upstream_down_inside_window_serves_cached_then_expired_errors() {
    let (cache, calls, fail, clock) = setup();
    let first = cache.get().await.unwrap();
    fail.store(DOWN, Ordering::SeqCst);
    clock.advance(Duration::from_secs(3500));
    assert_eq!(cache.get().await.unwrap(), first, "still valid: served");
    clock.advance(Duration::from_secs(200)); // past expiry
    // upstream unreachable: the sign-in is fine, the network is not — Unavailable
    let e = cache.get().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(!e.to_string().contains("sign in again"), "{e}");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    // upstream refusing the refresh: only a new sign-in helps — ExpiredToken
    fail.store(REFUSING, Ordering::SeqCst);
    let e = cache.get().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ExpiredToken);
    assert!(e.to_string().contains("the renewal was refused: up: refresh token revoked"), "{e}");
    // the source's error is kept, typed, as the cause
    let cause = std::error::Error::source(&e).and_then(|c| c.downcast_ref::<Error>());
    assert!(matches!(cause, Some(Error::Refresh { name, .. }) if name == "up"), "{e:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    fail.store(UP, Ordering::SeqCst);
    assert_eq!(cache.get().await.unwrap().access_key_id().expose_secret(), "ASIA5");
}

#[tokio::test]
async fn credentials_shorter_lived_than_the_window_refresh_at_half_life_not_on_every_call() {
    let clock = ManualClock::fixed();
    let (source, calls) = counting(&clock, Duration::from_secs(200));
    let cache = Refreshing::builder(source)
        .refresh_window(RefreshPolicy::new(Duration::from_secs(300)))
        .clock(Arc::new(clock.clone()))
        .build();
    for _ in 0..5 {
        cache.get().await.unwrap();
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1, "a 200 s credential under a 300 s window is not refetched each call");
    clock.advance(Duration::from_secs(101));
    cache.get().await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2, "past half its life it is renewed");
}

#[tokio::test]
async fn no_value_and_upstream_down_keeps_the_upstream_kind() {
    let (cache, _, fail, _) = setup();
    fail.store(DOWN, Ordering::SeqCst);
    assert_eq!(cache.get().await.unwrap_err().kind(), ErrorKind::Unavailable);
}

/// A cache over an always-up upstream whose credentials live an hour, kept in `file`
/// (each call is a new process's cache over the same entry).
fn persisted(calls: &Arc<AtomicUsize>, clock: &ManualClock, file: &std::path::Path) -> RefreshingBuilder<Counting> {
    let source = Counting {
        calls: calls.clone(),
        fail: Default::default(),
        clock: clock.clone(),
        lifetime: Duration::from_secs(3600),
    };
    Refreshing::builder(source).clock(Arc::new(clock.clone())).persist_to(file)
}

#[tokio::test]
async fn persisted_entries_survive_a_new_cache_and_are_0600() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("cache/entry.json");
    let (_, calls, _, clock) = setup();
    let make = || persisted(&calls, &clock, &file).build();
    let a = make().get().await.unwrap();
    let b = make().get().await.unwrap();
    assert_eq!(a, b);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    // a damaged entry is replaced, not trusted
    std::fs::write(&file, "{garbage").unwrap();
    make().get().await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    make().invalidate().await.unwrap();
    assert!(!file.exists());
}

/// While another process refreshes (it holds the entry's refresh lock), a caller whose
/// value still has more than a third of the window left is served at once; one whose value
/// is nearly expired waits, boundedly, for that refresh. Found by the soak: every caller
/// sat out a stalled refresh (10 s) with valid credentials in hand.
#[tokio::test]
async fn a_refresh_in_another_process_does_not_hold_up_a_still_valid_value() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("entry.json");
    let (_, calls, _, clock) = setup();
    let make = || {
        persisted(&calls, &clock, &file)
            .refresh_window(RefreshPolicy::new(Duration::from_secs(300)))
            .lock_wait(Duration::from_millis(500))
            .build()
    };
    let first = make().get().await.unwrap();
    // another process is refreshing: it holds the entry's refresh lock and never finishes
    let other = fsutil::lock(&file).unwrap();
    clock.advance(Duration::from_secs(3600 - 200)); // due (200 s left), advisory (> 100 s)
    assert_eq!(make().get().await.unwrap(), first, "served without waiting for the lock");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    clock.advance(Duration::from_secs(150)); // 50 s left: this caller waits for the refresh
    let e = make().get().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(e.to_string().contains("another process"), "{e}");
    drop(other);
    assert_ne!(make().get().await.unwrap(), first);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// The process that refreshed serves exactly what the others read from the entry (which
/// keeps expiry to the millisecond): otherwise a caller that saw the refresher's value
/// could later see the stored one, a moment "older". Found by the soak.
#[tokio::test]
async fn the_refresher_serves_what_the_entry_keeps() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("entry.json");
    let (_, calls, _, clock) = setup();
    // an expiry finer than the entry keeps (a millisecond and a fraction)
    clock.advance(Duration::from_micros(600_300));
    let make = || persisted(&calls, &clock, &file).build();
    let refresher = make().get().await.unwrap();
    let reader = make().get().await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(refresher.expiration(), reader.expiration());
}

#[cfg(feature = "aws-sdk")]
#[tokio::test]
async fn plugs_into_the_aws_sdk_as_a_credentials_provider() {
    let (cache, _, _, _) = setup();
    let creds = cache.provide_credentials().await.unwrap();
    assert_eq!(creds.access_key_id(), "ASIA1");
    assert_eq!(creds.session_token(), Some("t"));
}

/// A cache whose source is another cache of the same source (a sign-in's tokens under its
/// AWS credentials).
struct Nested {
    inner: Refreshing<Counting>,
}

impl CredentialSource for Nested {
    type Output = AwsCredentials;
    type Error = Error;
    fn name(&self) -> Cow<'_, str> {
        "counting".into()
    }
    async fn fetch(&self) -> Result<AwsCredentials> {
        self.inner.get().await
    }
}

/// The inner cache's report is found by its type (not its text) and said once: the name is
/// not repeated, the inner error is the typed cause, and the kind is the inner one.
#[tokio::test]
async fn a_nested_cache_of_the_same_source_is_reported_once_with_its_cause() {
    let (inner, _calls, fail, clock) = setup();
    fail.store(REFUSING, Ordering::SeqCst);
    let outer = Refreshing::builder(Nested { inner })
        .refresh_window(RefreshPolicy::new(Duration::from_secs(300)))
        .clock(Arc::new(clock.clone()))
        .build();
    let e = outer.get().await.unwrap_err();
    let text = e.to_string();
    assert_eq!(text.matches("counting:").count(), 1, "{text}");
    assert_eq!(text, "counting: could not obtain a credential: up: refresh token revoked");
    assert_eq!(e.kind(), ErrorKind::NotAuthorized);
    let cause = std::error::Error::source(&e).and_then(|c| c.downcast_ref::<Error>());
    assert!(matches!(cause, Some(Error::Refresh { name, .. }) if name == "counting"), "{e:?}");
}
