//! The PostgreSQL wire protocol in front of a cluster, so `psql`, `tokio-postgres`, JDBC and
//! psycopg connect unchanged.
//!
//! [`PgListener::start`] binds a loopback TCP port and serves every connection on the ambient
//! tokio runtime: startup with SCRAM-SHA-256 ([`scram`], the default), MD5 or trust
//! authentication against a [`Target`]'s [`Login`], the simple query protocol (several
//! statements in one message run as one implicit transaction), the extended protocol
//! (Parse/Bind/Describe/Execute/Sync, named and unnamed statements and portals, parameters and
//! results in text or binary per column), COPY FROM STDIN / TO STDOUT in text and CSV
//! ([`copy`]), and CancelRequests (a statement waiting for a row lock ends with 57014). Each
//! connection is one [`crate::cluster::ClusterSession`] opened through the target (a writer,
//! a reader or one instance).
//!
//! Guarantees: frames are decoded by `pgwire`; everything this module parses itself (binary
//! parameters, format codes, SCRAM messages, COPY data) fails with a SQLSTATE error, never a
//! panic; statements run on blocking threads, so a commit waiting for the volume never stalls
//! other connections; dropping (or [`PgListener::stop`]ping) a listener closes its port and
//! every connection it accepted.
//!
//! Not supported: TLS (`sslmode=require` is refused; clients default to `prefer` and continue
//! in clear text), COPY BINARY, LISTEN/NOTIFY, `pg_catalog` beyond what the engine generates.

pub mod codec;
pub mod copy;
mod copying;
pub mod describe;
mod handler;
pub mod scram;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use nubis_core::Env;
use tokio::sync::watch;

use crate::cluster::{ClusterResult, ClusterSession};

/// The connections of one listener that a CancelRequest can reach: (pid, secret key) → the
/// session's interrupt flag.
pub(crate) type Cancels = Arc<
    parking_lot::Mutex<
        std::collections::HashMap<(i32, Vec<u8>), Arc<std::sync::atomic::AtomicBool>>,
    >,
>;

/// How a password is checked at startup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PgAuth {
    /// SCRAM-SHA-256 (PostgreSQL's default since 14, and RDS's for new clusters).
    #[default]
    ScramSha256,
    /// MD5 challenge-response (`password_encryption = md5`).
    Md5,
    /// No password asked (`trust`); the user name must still be the master user.
    Trust,
}

/// Who may connect, read at every connection (ModifyDBCluster can change the password).
#[derive(Debug, Clone)]
pub struct Login {
    /// How the password is checked (a `None` password means trust whatever this says).
    pub auth: PgAuth,
    /// The master user name.
    pub user: String,
    /// The master password; `None` means trust (no password asked).
    pub password: Option<String>,
    /// Database names a client may ask for.
    pub databases: Vec<String>,
    /// The `server_version` reported at startup (the cluster's engine version).
    pub server_version: String,
}

/// What a listener serves: who may log in, and how to open a session.
pub trait Target: Send + Sync + 'static {
    /// The credentials and databases.
    fn login(&self) -> Login;
    /// Opens a session (called on a blocking thread: a paused cluster resumes first).
    fn connect(&self) -> ClusterResult<ClusterSession>;
}

/// A running listener; dropping it stops it.
#[derive(Debug)]
pub struct PgListener {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
}

impl PgListener {
    /// Starts serving `target` on an already bound listener. Must be called inside a tokio
    /// runtime (the accept loop and the connections are tasks on it).
    pub fn start(
        listener: std::net::TcpListener,
        target: Arc<dyn Target>,
        env: Env,
    ) -> io::Result<PgListener> {
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let (stop, mut stopped) = watch::channel(false);
        let cancels = Cancels::default();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((socket, _)) = accepted else { continue };
                        let _ = socket.set_nodelay(true);
                        let handlers = handler::Handlers(
                            handler::Connection::new(target.clone(), env.clone(), cancels.clone()),
                            cancels.clone(),
                        );
                        let mut stopped = stopped.clone();
                        tokio::spawn(async move {
                            tokio::select! {
                                _ = ::pgwire::tokio::process_socket(socket, None, handlers) => {}
                                _ = stopped.changed() => {}
                            }
                        });
                    }
                    _ = stopped.changed() => break,
                }
            }
        });
        Ok(PgListener { addr, stop })
    }

    /// Binds `host:port` (port 0: an ephemeral port) and starts serving.
    pub fn bind(addr: SocketAddr, target: Arc<dyn Target>, env: Env) -> io::Result<PgListener> {
        PgListener::start(std::net::TcpListener::bind(addr)?, target, env)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and closes every connection it accepted.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }
}

impl Drop for PgListener {
    fn drop(&mut self) {
        self.stop();
    }
}
