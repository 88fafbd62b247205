//! A TCP pipe to a peer that can be cut: the peer "goes away" for its clients (every open
//! connection is closed and new ones are refused) while it keeps running for everyone else.
//! The fleet tests cut PostgreSQL this way mid-storm without stopping the shared server.

use std::net::SocketAddr;

/// The pipe; stops when dropped.
#[derive(Debug)]
pub struct TcpPipe {
    /// `127.0.0.1:PORT`, to use instead of the peer's address.
    pub addr: SocketAddr,
    cut: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TcpPipe {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TcpPipe {
    /// Pipes connections to `upstream` (`host:port`).
    pub async fn start(upstream: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let (cut, watch) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let mut stop = watch.clone();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((mut client, _)) = accepted else { break };
                        let (upstream, mut stop) = (upstream.clone(), watch.clone());
                        tokio::spawn(async move {
                            let Ok(mut peer) = tokio::net::TcpStream::connect(&upstream).await else { return };
                            tokio::select! {
                                _ = tokio::io::copy_bidirectional(&mut client, &mut peer) => {}
                                _ = stop.wait_for(|cut| *cut) => {}
                            }
                        });
                    }
                    // cut: the listener goes (new connections are refused) and every
                    // connection task above ends, closing both of its sockets
                    _ = stop.wait_for(|cut| *cut) => break,
                }
            }
        });
        Self { addr, cut, task }
    }

    /// Cuts the peer off for good: open connections close, new ones are refused.
    pub fn cut(&self) {
        let _ = self.cut.send(true);
    }
}
