//! A fault-injecting TCP proxy for any HTTP peer (moto, oidc-provider): each new request
//! (kept-alive connections included) takes the next queued fault — reset the connection,
//! stall it, answer 503 — or, with none queued, is piped to the peer untouched. Faults live at the TCP level, below HTTP, where a library's retry logic
//! sees what a flaky network gives it. [`refused_url`] is an address nobody listens on.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// What to do to one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpFault {
    /// Accept, read the request, then reset the connection (RST, no response).
    Reset,
    /// Accept, read the request and say nothing for this long, then close.
    Stall(Duration),
    /// Read the request and answer this HTTP status with `Retry-After: 1` and no body, then
    /// close (a load balancer in front of a busy peer).
    Status(u16),
}

/// The proxy; stops when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    /// `http://127.0.0.1:PORT`, to use instead of the peer's URL.
    pub url: String,
    faults: Arc<Mutex<VecDeque<TcpFault>>>,
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
    operations: Operations,
    forms: Forms,
    refuse: Arc<tokio::sync::Notify>,
    refuse_for: Arc<Mutex<Duration>>,
    task: tokio::task::JoinHandle<()>,
}

/// Requests per operation: the `X-Amz-Target` header (AWS JSON protocols), else the
/// `Action=` of a query-protocol form, else the path; faulted requests counted apart.
type Operations = Arc<Mutex<BTreeMap<String, usize>>>;

/// The fields of every query-protocol request forwarded (form-encoded `Action=...` bodies), in
/// order: what an AWS service was asked, as it received it.
type Forms = Arc<Mutex<Vec<BTreeMap<String, String>>>>;

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Proxies to `upstream` (`http://host:port`, any path ignored).
    pub async fn start(upstream: &str) -> Self {
        let target = url::Url::parse(upstream).expect("upstream URL");
        let target = format!(
            "{}:{}",
            target.host_str().expect("upstream host"),
            target.port_or_known_default().expect("upstream port")
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let url = format!("http://{addr}");
        let faults: Arc<Mutex<VecDeque<TcpFault>>> = Arc::default();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let operations = Operations::default();
        let forms = Forms::default();
        let refuse = Arc::new(tokio::sync::Notify::new());
        let refuse_for = Arc::new(Mutex::new(Duration::ZERO));
        let (f, c, r, o) = (faults.clone(), connections.clone(), requests.clone(), (operations.clone(), forms.clone()));
        let (refuse_now, refuse_len) = (refuse.clone(), refuse_for.clone());
        let task = tokio::spawn(async move {
            let mut listener = listener;
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((client, _)) = accepted else { break };
                        c.fetch_add(1, Ordering::SeqCst);
                        tokio::spawn(connection(client, target.clone(), f.clone(), r.clone(), o.clone()));
                    }
                    () = refuse_now.notified() => {
                        // no listener at all for a while: connecting is refused (RST to the SYN)
                        drop(listener);
                        let pause = *refuse_len.lock().unwrap_or_else(PoisonError::into_inner);
                        tokio::time::sleep(pause).await;
                        listener = loop {
                            match tokio::net::TcpListener::bind(addr).await {
                                Ok(l) => break l,
                                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                            }
                        };
                    }
                }
            }
        });
        Self { url, faults, connections, requests, operations, forms, refuse, refuse_for, task }
    }

    /// Closes the listening socket for `pause`, so new connections are refused, then listens
    /// on the same port again. Connections already open are not touched.
    pub fn refuse_for(&self, pause: Duration) {
        *self.refuse_for.lock().unwrap_or_else(PoisonError::into_inner) = pause;
        self.refuse.notify_one();
    }

    /// Requests forwarded to the peer per operation (the `X-Amz-Target` header, else the
    /// query protocol's `Action`, else the path and OAuth grant type), and faulted ones
    /// under `faulted:<operation>`.
    pub fn operations(&self) -> BTreeMap<String, usize> {
        self.operations.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The fields of each forwarded query-protocol request whose `Action` is `action`, in order.
    pub fn forms(&self, action: &str) -> Vec<BTreeMap<String, String>> {
        let forms = self.forms.lock().unwrap_or_else(PoisonError::into_inner);
        forms.iter().filter(|f| f.get("Action").is_some_and(|a| a == action)).cloned().collect()
    }

    /// Applies these faults to the next connections, in order.
    pub fn fail_next(&self, faults: &[TcpFault]) {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner).extend(faults.iter().copied());
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// HTTP requests seen so far (faulted ones included; kept-alive connections counted per
    /// request).
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// One client connection: each request it opens takes the next queued fault, if any;
/// otherwise its bytes go to the peer (over one upstream connection, opened on first need).
async fn connection(
    client: tokio::net::TcpStream,
    target: String,
    faults: Arc<Mutex<VecDeque<TcpFault>>>,
    requests: Arc<AtomicUsize>,
    (operations, forms): (Operations, Forms),
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut from_client, to_client) = client.into_split();
    let to_client = Arc::new(tokio::sync::Mutex::new(to_client));
    let mut upstream: Option<(tokio::net::tcp::OwnedWriteHalf, tokio::task::JoinHandle<()>)> = None;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from_client.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if starts_request(&buf[..n]) {
            requests.fetch_add(1, Ordering::SeqCst);
            let fault = faults.lock().unwrap_or_else(PoisonError::into_inner).pop_front();
            let op = operation(&buf[..n]);
            let op = if fault.is_some() { format!("faulted:{op}") } else { op };
            if fault.is_none()
                && let Some(form) = query_form(&buf[..n])
            {
                forms.lock().unwrap_or_else(PoisonError::into_inner).push(form);
            }
            *operations.lock().unwrap_or_else(PoisonError::into_inner).entry(op).or_default() += 1;
            let mut out = to_client.lock().await;
            match fault {
                Some(TcpFault::Status(code)) => {
                    let reply = format!(
                        "HTTP/1.1 {code} Injected\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                    let _ = out.write_all(reply.as_bytes()).await;
                    let _ = out.shutdown().await;
                    break;
                }
                Some(TcpFault::Reset) => {
                    // linger 0: close with RST instead of FIN
                    let _ = out.as_ref().set_zero_linger();
                    break;
                }
                Some(TcpFault::Stall(d)) => {
                    drop(out);
                    tokio::time::sleep(d).await;
                    break;
                }
                None => {}
            }
        }
        if upstream.is_none() {
            let Ok(stream) = tokio::net::TcpStream::connect(&target).await else { break };
            let (mut from_upstream, to_upstream) = stream.into_split();
            let to_client = to_client.clone();
            let down = tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                while let Ok(n) = from_upstream.read(&mut buf).await {
                    if n == 0 || to_client.lock().await.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
                let _ = to_client.lock().await.shutdown().await;
            });
            upstream = Some((to_upstream, down));
        }
        if let Some((to_upstream, _)) = upstream.as_mut()
            && to_upstream.write_all(&buf[..n]).await.is_err()
        {
            break;
        }
    }
    if let Some((mut to_upstream, down)) = upstream {
        let _ = to_upstream.shutdown().await;
        down.abort();
    }
}

/// The operation a request names (its first chunk: the head and usually the body).
fn operation(chunk: &[u8]) -> String {
    let text = String::from_utf8_lossy(chunk);
    let mut lines = text.split("\r\n");
    let path = lines.next().and_then(|l| l.split(' ').nth(1)).unwrap_or("?").split('?').next().unwrap_or("?");
    for line in lines.by_ref() {
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("x-amz-target")
        {
            return value.trim().to_owned();
        }
    }
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    if let Some(action) = body.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
        return action.to_owned();
    }
    if let Some(grant) = body.split('&').find_map(|kv| kv.strip_prefix("grant_type=")) {
        return format!("{path} {grant}");
    }
    path.to_owned()
}

/// The fields of a query-protocol request's form body (one with an `Action`), if it is one.
fn query_form(chunk: &[u8]) -> Option<BTreeMap<String, String>> {
    let text = String::from_utf8_lossy(chunk);
    let body = text.split_once("\r\n\r\n")?.1;
    let form: BTreeMap<String, String> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    form.contains_key("Action").then_some(form)
}

/// Whether a chunk from the client opens an HTTP/1.1 request (`METHOD /path HTTP/1.1`).
fn starts_request(chunk: &[u8]) -> bool {
    let line = chunk.split(|b| *b == b'\n').next().unwrap_or_default();
    let method_len = line.iter().take_while(|b| b.is_ascii_uppercase()).count();
    method_len > 0 && line.get(method_len) == Some(&b' ') && line.ends_with(b"HTTP/1.1\r")
}

/// A loopback URL whose port had a listener a moment ago and has none now: connecting is
/// refused.
pub async fn refused_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    drop(listener);
    format!("http://{addr}")
}
