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
    /// AWS SAM templates, as the SAM CLI runs them locally.
    #[cfg(feature = "lambda")]
    Sam {
        #[command(subcommand)]
        command: SamCommand,
    },
}

#[cfg(feature = "lambda")]
#[derive(Debug, Subcommand)]
enum SamCommand {
    /// `sam local …`
    Local {
        #[command(subcommand)]
        command: SamLocal,
    },
}

#[cfg(feature = "lambda")]
#[derive(Debug, Subcommand)]
enum SamLocal {
    /// Deploy the template's functions and invoke one with an event, like `sam local invoke`:
    /// the function's logs go to stderr, its response to stdout.
    Invoke {
        /// The function's logical id (or name); optional when the template has one function.
        function: Option<String>,
        #[command(flatten)]
        template: TemplateArgs,
        /// A JSON file with the event (`-` for standard input); `{}` when absent.
        #[arg(short = 'e', long)]
        event: Option<std::path::PathBuf>,
    },
    /// Deploy the template's functions and serve the Lambda Invoke API, like
    /// `sam local start-lambda` (every other Nubis service is served too).
    StartLambda {
        #[command(flatten)]
        template: TemplateArgs,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        host: IpAddr,
        /// Port to listen on.
        #[arg(short = 'p', long, default_value_t = 3001)]
        port: u16,
    },
}

#[cfg(feature = "lambda")]
#[derive(Debug, clap::Args)]
struct TemplateArgs {
    /// The SAM template.
    #[arg(short = 't', long, default_value = "template.yaml")]
    template: std::path::PathBuf,
    /// `Key=Value` template parameter overrides (repeatable).
    #[arg(long = "parameter-overrides", value_name = "KEY=VALUE")]
    parameter_overrides: Vec<String>,
    /// The region to deploy into.
    #[arg(long, default_value = "us-east-1")]
    region: String,
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
    /// First port for Aurora clusters' PostgreSQL endpoints: each new cluster (and instance)
    /// takes the first free port at or above it (0: ephemeral ports).
    #[arg(long = "pg-port-base", default_value_t = 0)]
    pg_port_base: u16,
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
        #[cfg(feature = "lambda")]
        Command::Sam {
            command: SamCommand::Local { command },
        } => sam::run(command).await,
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
    #[cfg(feature = "aurora")]
    cloud.rds().set_pg_base_port(args.pg_port_base);
    #[cfg(not(feature = "aurora"))]
    let _ = args.pg_port_base;
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

#[cfg(feature = "lambda")]
mod sam {
    //! `nubis sam local invoke | start-lambda`.

    use std::io::{Read as _, Write as _};
    use std::net::SocketAddr;

    use anyhow::{Context as _, bail};
    use nubis::{Cloud, Server};
    use nubis_core::Region;
    use nubis_lambda::sam::{ParseOptions, Template};
    use nubis_lambda::{InvokeRequest, LambdaRegion};

    use super::{SamLocal, TemplateArgs, shutdown_signal};

    pub(super) async fn run(command: SamLocal) -> anyhow::Result<()> {
        match command {
            SamLocal::Invoke {
                function,
                template,
                event,
            } => invoke(function, &template, event).await,
            SamLocal::StartLambda {
                template,
                host,
                port,
            } => start_lambda(&template, SocketAddr::new(host, port)).await,
        }
    }

    fn deploy(cloud: &Cloud, args: &TemplateArgs) -> anyhow::Result<(Template, LambdaRegion)> {
        let region = Region::new(&args.region)?;
        let mut opts = ParseOptions {
            region: region.to_string(),
            account: cloud.env().account.to_string(),
            ..Default::default()
        };
        for pair in &args.parameter_overrides {
            let (k, v) = pair
                .split_once('=')
                .context("--parameter-overrides takes KEY=VALUE")?;
            opts.parameter_overrides.insert(k.to_owned(), v.to_owned());
        }
        let template = Template::load(&args.template, &opts)
            .with_context(|| format!("loading {}", args.template.display()))?;
        let lambda = cloud.lambda().region(&region);
        template.deploy(&lambda).context("deploying the template")?;
        Ok((template, lambda))
    }

    async fn invoke(
        function: Option<String>,
        args: &TemplateArgs,
        event: Option<std::path::PathBuf>,
    ) -> anyhow::Result<()> {
        let cloud = Cloud::builder().region(&args.region)?.build()?;
        let (template, lambda) = deploy(&cloud, args)?;
        let f = match &function {
            Some(id) => template
                .function(id)
                .with_context(|| format!("the template has no function '{id}'"))?,
            None => {
                let mut all = template.functions.values();
                match (all.next(), all.next()) {
                    (Some(f), None) => f,
                    _ => bail!("the template has several functions: name one"),
                }
            }
        };
        let payload = match event.as_deref() {
            None => b"{}".to_vec(),
            Some(p) if p.as_os_str() == "-" => {
                let mut buf = Vec::new();
                std::io::stdin().read_to_end(&mut buf)?;
                buf
            }
            Some(p) => std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
        };
        let out = lambda
            .invoke(InvokeRequest::new(&f.name, payload).tail())
            .await?;
        if let Some(logs) = out.log_tail() {
            eprint!("{logs}");
        }
        let mut stdout = std::io::stdout();
        stdout.write_all(&out.payload)?;
        writeln!(stdout)?;
        if out.function_error.is_some() {
            std::process::exit(1);
        }
        Ok(())
    }

    async fn start_lambda(args: &TemplateArgs, addr: SocketAddr) -> anyhow::Result<()> {
        let cloud = Cloud::builder().region(&args.region)?.build()?;
        let (template, _) = deploy(&cloud, args)?;
        let server = Server::bind(cloud, addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let addr = server.local_addr()?;
        let names: Vec<&str> = template
            .functions
            .values()
            .map(|f| f.name.as_str())
            .collect();
        println!(
            "nubis serving the Lambda Invoke API for {} on http://{addr}",
            names.join(", ")
        );
        server.serve_until(shutdown_signal()).await;
        Ok(())
    }
}
