//! The `nubis` command: `nubis serve` runs every engine behind one local AWS endpoint.

use std::net::{IpAddr, SocketAddr};

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use nubis::{Cloud, Server, ServerOptions};

#[derive(Debug, Parser)]
#[command(
    name = "nubis",
    version,
    about = "AWS's core service engines, in one local process"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve every engine on one HTTP endpoint (in memory).
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 4566)]
    port: u16,
    /// `system` time, or a `manual` clock moved by `POST /_nubis/clock`.
    #[arg(long, value_enum, default_value_t = ClockMode::System)]
    clock: ClockMode,
    /// Regions to start with; the first is the default for unsigned requests.
    #[arg(long = "region", default_value = "us-east-1")]
    regions: Vec<String>,
    /// The account id that owns every resource.
    #[arg(long, default_value = "000000000000")]
    account: String,
    /// Seed for every generated id.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Check SigV4 signatures of signed requests (off by default).
    #[arg(long)]
    verify_signatures: bool,
    /// `ACCESS_KEY_ID:SECRET` accepted when verifying signatures (repeatable).
    #[arg(long = "credentials", value_name = "AKID:SECRET")]
    credentials: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ClockMode {
    System,
    Manual,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Serve(args) => serve(args).await,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut builder = Cloud::builder()
        .regions(args.regions.iter().map(String::as_str))?
        .account(args.account.parse().context("--account")?)
        .seed(args.seed);
    if args.clock == ClockMode::Manual {
        builder = builder.manual_clock();
    }
    let cloud = builder.build()?;
    let mut options = ServerOptions::default();
    if args.verify_signatures {
        let mut keys = std::collections::HashMap::new();
        for pair in &args.credentials {
            let (akid, secret) = pair
                .split_once(':')
                .context("--credentials takes ACCESS_KEY_ID:SECRET")?;
            keys.insert(akid.to_owned(), secret.to_owned());
        }
        anyhow::ensure!(
            !keys.is_empty(),
            "--verify-signatures needs at least one --credentials AKID:SECRET"
        );
        options.verify_signatures = Some(keys);
    }
    let server = Server::bind_with(
        cloud.clone(),
        SocketAddr::new(args.host, args.port),
        options,
    )
    .await
    .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
    let addr = server.local_addr()?;
    tracing::info!(%addr, services = ?cloud.service_names(), clock = ?args.clock, "nubis is serving");
    println!(
        "nubis serving {} on http://{addr}",
        cloud.service_names().join(", ")
    );
    server.serve_until(shutdown_signal()).await;
    tracing::info!("nubis stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
