//! Test support (feature `testing`): the endpoint in-process on an ephemeral port, and an
//! `aws_config::SdkConfig` pointing at it, so existing `aws-sdk-*` code runs unchanged.
//!
//! ```no_run
//! # async fn demo() {
//! let server = nubis::testing::TestServer::start().await;
//! let config = server.sdk_config();
//! // let client = aws_sdk_dynamodb::Client::new(&config);
//! // client.list_tables().send().await.unwrap();
//! # let _ = config;
//! # }
//! ```

use std::net::SocketAddr;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::Credentials;
use nubis_core::ManualClock;
use tokio::sync::oneshot;

use crate::{Cloud, CloudBuilder, Server, ServerOptions};

/// The access key id in [`TestServer::sdk_config`].
pub const ACCESS_KEY_ID: &str = "AKIDNUBISTEST";
/// The secret access key in [`TestServer::sdk_config`].
pub const SECRET_ACCESS_KEY: &str = "nubis-secret";

/// A running endpoint that stops when dropped.
#[derive(Debug)]
pub struct TestServer {
    cloud: Cloud,
    addr: SocketAddr,
    sdk_config: SdkConfig,
    stop: Option<oneshot::Sender<()>>,
}

impl TestServer {
    /// Starts a cloud with default settings (`us-east-1`, system clock).
    pub async fn start() -> TestServer {
        Self::start_with(Cloud::builder()).await
    }

    /// Starts the cloud `builder` makes.
    ///
    /// # Panics
    /// If the builder is invalid or no loopback port can be bound: test-setup failures.
    pub async fn start_with(builder: CloudBuilder) -> TestServer {
        let cloud = builder
            .build()
            .unwrap_or_else(|e| panic!("invalid test cloud: {e}"));
        Self::start_cloud(cloud).await
    }

    /// Serves an existing cloud.
    ///
    /// # Panics
    /// If no loopback port can be bound.
    pub async fn start_cloud(cloud: Cloud) -> TestServer {
        Self::start_cloud_with(cloud, ServerOptions::default()).await
    }

    /// Serves an existing cloud with server options (e.g. signature verification).
    ///
    /// # Panics
    /// If no loopback port can be bound.
    pub async fn start_cloud_with(cloud: Cloud, options: ServerOptions) -> TestServer {
        let server = Server::bind_with(
            cloud.clone(),
            SocketAddr::from(([127, 0, 0, 1], 0)),
            options,
        )
        .await
        .unwrap_or_else(|e| panic!("cannot bind a loopback port: {e}"));
        let addr = server
            .local_addr()
            .unwrap_or_else(|e| panic!("no local address: {e}"));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(server.serve_until(async move {
            let _ = stopped.await;
        }));
        let sdk_config =
            sdk_config_for(&format!("http://{addr}"), cloud.default_region().as_str()).await;
        TestServer {
            cloud,
            addr,
            sdk_config,
            stop: Some(stop),
        }
    }

    /// An SDK configuration for this endpoint: dummy credentials, the endpoint URL, the cloud's
    /// default region.
    pub fn sdk_config(&self) -> SdkConfig {
        self.sdk_config.clone()
    }

    /// The cloud behind the endpoint.
    pub fn cloud(&self) -> &Cloud {
        &self.cloud
    }

    /// The cloud's manual clock.
    ///
    /// # Panics
    /// If the cloud was not built with [`CloudBuilder::manual_clock`].
    pub fn manual_clock(&self) -> &ManualClock {
        self.cloud.manual_clock().unwrap_or_else(|| panic!("this TestServer runs on the system clock; build it with Cloud::builder().manual_clock()"))
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// An SDK configuration for any Nubis endpoint URL and region, with dummy credentials.
pub async fn sdk_config_for(url: &str, region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()))
        .endpoint_url(url)
        .credentials_provider(Credentials::new(
            "AKIDNUBISTEST",
            "nubis-secret",
            None,
            None,
            "nubis",
        ))
        .load()
        .await
}
