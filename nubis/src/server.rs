//! `nubis serve`: one HTTP endpoint for every service.
//!
//! A connection is served by hyper (HTTP/1.1 and HTTP/2). Each request's body is read whole,
//! `/_nubis/*` goes to [`crate::admin`], everything else through the [`nubis_wire::Router`] to a
//! service. A service that panics answers `500 InternalFailure` in its protocol's shape instead
//! of dropping the connection. Shutdown is graceful: in-flight requests finish.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use bytes::Bytes;
use futures::FutureExt as _;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use nubis_wire::route::with_request_id;
use nubis_wire::{Body, Protocol, Response, Router, error};
use tokio::net::TcpListener;

use crate::Cloud;

/// How the endpoint checks requests.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// When set, header-signed requests must carry a valid SigV4 signature made with one of these
    /// access keys (access key id → secret). Off by default, as most local tools are.
    pub verify_signatures: Option<HashMap<String, String>>,
}

/// A bound endpoint, not yet serving.
pub struct Server {
    cloud: Cloud,
    router: Arc<Router>,
    listener: TcpListener,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.listener.local_addr().ok())
            .finish()
    }
}

impl Server {
    /// Binds the endpoint for `cloud` on `addr` (port 0 picks a free port).
    pub async fn bind(cloud: Cloud, addr: SocketAddr) -> std::io::Result<Server> {
        Self::bind_with(cloud, addr, ServerOptions::default()).await
    }

    /// Binds the endpoint with options (signature verification).
    pub async fn bind_with(
        cloud: Cloud,
        addr: SocketAddr,
        options: ServerOptions,
    ) -> std::io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        let mut router = Router::new(
            cloud.services().to_vec(),
            cloud.default_region().clone(),
            cloud.env().account,
            cloud.env().ids.fork("requests"),
        )
        .clock(cloud.env().clock.clone());
        if let Some(credentials) = options.verify_signatures {
            router = router.verify_signatures(credentials);
        }
        let router = Arc::new(router);
        Ok(Server {
            cloud,
            router,
            listener,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish.
    pub async fn serve_until(self, shutdown: impl Future<Output = ()>) {
        let graceful = GracefulShutdown::new();
        let builder = auto::Builder::new(TokioExecutor::new());
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let Ok((stream, _peer)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    let cloud = self.cloud.clone();
                    let router = Arc::clone(&self.router);
                    let service = hyper::service::service_fn(move |req| {
                        let cloud = cloud.clone();
                        let router = Arc::clone(&router);
                        async move { Ok::<_, Infallible>(handle(&cloud, &router, req).await) }
                    });
                    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                }
                () = &mut shutdown => break,
            }
        }
        drop(self.listener);
        graceful.shutdown().await;
    }
}

async fn handle(cloud: &Cloud, router: &Router, mut req: http::Request<Incoming>) -> Response {
    let wants_upgrade = req.headers().get(http::header::UPGRADE).is_some();
    let on_upgrade = wants_upgrade.then(|| hyper::upgrade::on(&mut req));
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            let protocol = nubis_wire::route::guess_protocol(
                &http::Request::from_parts(parts, Bytes::new()),
                false,
            );
            return error(
                protocol,
                400,
                "IncompleteBody",
                &format!("the request body could not be read: {e}"),
                "",
            );
        }
    };
    let req = http::Request::from_parts(parts, body);

    if req.uri().path().starts_with("/_nubis/") {
        let request_id = cloud.env().ids.upper_alnum(16);
        return with_request_id(crate::admin::handle(cloud, &req, &request_id), &request_id);
    }

    let (service, ctx) = match router.route(&req) {
        Ok(found) => found,
        Err(resp) => return *resp,
    };
    let request_id = ctx.request_id.clone();

    if let Some(on_upgrade) = on_upgrade
        && let Some((resp, handler)) = service.upgrade(&ctx, &req)
    {
        tokio::spawn(async move {
            if let Ok(upgraded) = on_upgrade.await {
                handler(Box::new(TokioIo::new(upgraded))).await;
            }
        });
        return resp;
    }

    let protocol = service.descriptor().protocol;
    let resp = match AssertUnwindSafe(service.call(ctx, req))
        .catch_unwind()
        .await
    {
        Ok(resp) => resp,
        Err(_) => {
            tracing::error!(
                service = service.descriptor().name,
                "service panicked while answering a request"
            );
            internal_failure(protocol, &request_id)
        }
    };
    with_request_id(resp, &request_id)
}

fn internal_failure(protocol: Protocol, request_id: &str) -> Response {
    let code = match protocol {
        Protocol::RestXml => "InternalError",
        Protocol::AwsQuery => "InternalFailure",
        _ => "InternalServerError",
    };
    error(
        protocol,
        500,
        code,
        "The service hit an internal error; the request had no effect",
        request_id,
    )
}

/// Keeps the body type used by the server nameable for users who embed the endpoint.
pub type ResponseBody = Body;
