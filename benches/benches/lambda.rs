//! Lambda: in-process invoke overhead against a direct call of the same closure (the floor), warm
//! and cold invokes of a `lambda_runtime` process function through the Runtime API (and of the
//! same echo over blocking std sockets, against a bare loopback round trip as the floor), and N
//! concurrent invokes of each kind (N environments; the process ones are warm after the first
//! iteration).
//!
//! `CARGO_TARGET_DIR=/work/target-lambda cargo bench -p nubis-benches --bench lambda`

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use nubis_core::{Env, ManualClock, Region};
use nubis_lambda::*;
use serde_json::{Value, json};

async fn echo(event: Value, _ctx: Option<Context>) -> Result<Value, HandlerError> {
    Ok(event)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn in_process(c: &mut Criterion) {
    let rt = runtime();
    let clock = ManualClock::at_default_epoch();
    let lambda = Lambda::new(Env::with_clock(clock.shared()));
    lambda.register_handler("echo", |e: Value, ctx: Context| echo(e, Some(ctx)));
    let region = lambda.region(&Region::US_EAST_1);
    region
        .create_function(CreateFunction::in_process("echo", "echo"))
        .unwrap();
    let payload: &'static str = r#"{"k":1}"#;
    let event = json!({"k": 1});
    let mut g = c.benchmark_group("lambda/in_process");
    g.bench_function("direct_call_floor", |b| {
        b.iter(|| rt.block_on(async { black_box(echo(black_box(event.clone()), None).await) }))
    });
    g.bench_function("invoke_warm", |b| {
        b.iter(|| {
            rt.block_on(async {
                black_box(
                    region
                        .invoke(InvokeRequest::new("echo", payload))
                        .await
                        .unwrap(),
                )
            })
        })
    });
    g.bench_function("invoke_cold", |b| {
        b.iter(|| {
            // A configuration change retires the warm environment, so the next invoke starts cold.
            region
                .update_function_configuration("echo", UpdateFunctionConfiguration::default())
                .unwrap();
            rt.block_on(async {
                black_box(
                    region
                        .invoke(InvokeRequest::new("echo", payload))
                        .await
                        .unwrap(),
                )
            })
        })
    });
    for n in [16usize, 64] {
        g.bench_function(format!("concurrent_{n}"), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let handles: Vec<_> = (0..n)
                        .map(|_| {
                            let r = region.clone();
                            let p = payload;
                            tokio::spawn(
                                async move { r.invoke(InvokeRequest::new("echo", p)).await },
                            )
                        })
                        .collect();
                    for h in handles {
                        black_box(h.await.unwrap().unwrap());
                    }
                })
            })
        });
    }
    g.finish();
}

/// The fixture's binaries: the `lambda_runtime` echo and the blocking-std echo.
fn fixture() -> Option<(Vec<u8>, Vec<u8>)> {
    let manifest = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../lambda/tests/fixtures/rust-echo/Cargo.toml"
    );
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fixtures");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let ok = std::process::Command::new(cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "--manifest-path",
            manifest,
            "--target-dir",
        ])
        .arg(&target)
        .status()
        .is_ok_and(|s| s.success());
    let read = |name: &str| std::fs::read(target.join("release").join(name)).ok();
    ok.then(|| Some((read("bootstrap")?, read("bootstrap-std")?)))
        .flatten()
}

/// The floor of a warm process invocation: one round trip of a small message over loopback
/// TCP between this thread and an echo thread (blocking sockets, `TCP_NODELAY`). A warm
/// invocation takes two: the event and its answer, then the `202` and the runtime's next `next`.
fn loopback(c: &mut Criterion) {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_nodelay(true).unwrap();
        let mut buf = [0u8; 256];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 || s.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    });
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    let msg = [b'x'; 200];
    let mut back = [0u8; 200];
    c.bench_function("lambda/floor/loopback_round_trip", |b| {
        b.iter(|| {
            s.write_all(&msg).unwrap();
            s.read_exact(&mut back).unwrap();
        })
    });
}

fn process(c: &mut Criterion) {
    let Some((bin, std_bin)) = fixture() else {
        eprintln!("lambda/process: the lambda_runtime fixture did not build; skipping");
        return;
    };
    let rt = runtime();
    let lambda = Lambda::new(Env::default());
    let region = lambda.region(&Region::US_EAST_1);
    let zip = nubis_lambda::package::build_zip(&[("bootstrap", &bin, 0o755)]).unwrap();
    region
        .create_function(CreateFunction::zip(
            "rusty",
            "provided.al2023",
            "bootstrap",
            zip,
        ))
        .unwrap();
    let payload: &'static str = r#"{"k":1}"#;
    let mut g = c.benchmark_group("lambda/process");
    g.bench_function("invoke_warm", |b| {
        b.iter(|| {
            rt.block_on(async {
                black_box(
                    region
                        .invoke(InvokeRequest::new("rusty", payload))
                        .await
                        .unwrap(),
                )
            })
        })
    });
    {
        let n = 8usize;
        g.bench_function(format!("concurrent_{n}"), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let handles: Vec<_> = (0..n)
                        .map(|_| {
                            let r = region.clone();
                            tokio::spawn(async move {
                                r.invoke(InvokeRequest::new("rusty", payload)).await
                            })
                        })
                        .collect();
                    for h in handles {
                        black_box(h.await.unwrap().unwrap());
                    }
                })
            })
        });
    }
    // The same function in an engine that does not freeze environments between invocations.
    let unfrozen = Lambda::with_config(
        Env::default(),
        LambdaConfig {
            freeze: false,
            ..LambdaConfig::default()
        },
    );
    let unfrozen = unfrozen.region(&Region::US_EAST_1);
    let zip = nubis_lambda::package::build_zip(&[("bootstrap", &bin, 0o755)]).unwrap();
    unfrozen
        .create_function(CreateFunction::zip(
            "rusty",
            "provided.al2023",
            "bootstrap",
            zip,
        ))
        .unwrap();
    g.bench_function("invoke_warm_unfrozen", |b| {
        b.iter(|| {
            rt.block_on(async {
                black_box(
                    unfrozen
                        .invoke(InvokeRequest::new("rusty", payload))
                        .await
                        .unwrap(),
                )
            })
        })
    });
    // The same warm invocation driven by a current-thread runtime: the engine, its Runtime API
    // server and the caller share one thread, so the two hand-offs between the caller's task and
    // the server's connection task are not cross-thread wake-ups (what is left is the child's
    // own runtime and the two loopback round trips).
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let single = current.block_on(async {
        let lambda = Lambda::new(Env::default());
        let r = lambda.region(&Region::US_EAST_1);
        let zip = nubis_lambda::package::build_zip(&[("bootstrap", &bin, 0o755)]).unwrap();
        r.create_function(CreateFunction::zip(
            "rusty",
            "provided.al2023",
            "bootstrap",
            zip,
        ))
        .unwrap();
        r.invoke(InvokeRequest::new("rusty", payload))
            .await
            .unwrap();
        r
    });
    g.bench_function("invoke_warm_current_thread", |b| {
        b.iter(|| {
            current.block_on(async {
                black_box(
                    single
                        .invoke(InvokeRequest::new("rusty", payload))
                        .await
                        .unwrap(),
                )
            })
        })
    });
    // The minimal fixture: the same `lambda_runtime` function on a current-thread runtime
    // (`NUBIS_FIXTURE_RUNTIME=current_thread`), invoked from the multi-thread runtime and from a
    // current-thread one. What it leaves is the two loopback round trips and the wake-ups.
    let mut minimal = CreateFunction::zip(
        "rusty-minimal",
        "provided.al2023",
        "bootstrap",
        nubis_lambda::package::build_zip(&[("bootstrap", &bin, 0o755)]).unwrap(),
    );
    minimal.environment = Some(Environment {
        variables: [(
            "NUBIS_FIXTURE_RUNTIME".to_owned(),
            "current_thread".to_owned(),
        )]
        .into(),
    });
    region.create_function(minimal.clone()).unwrap();
    single.create_function(minimal).unwrap();
    g.bench_function("invoke_warm_minimal_fixture", |b| {
        b.iter(|| {
            rt.block_on(async {
                black_box(
                    region
                        .invoke(InvokeRequest::new("rusty-minimal", payload))
                        .await
                        .unwrap(),
                )
            })
        })
    });
    g.bench_function("invoke_warm_minimal_fixture_current_thread", |b| {
        b.iter(|| {
            current.block_on(async {
                black_box(
                    single
                        .invoke(InvokeRequest::new("rusty-minimal", payload))
                        .await
                        .unwrap(),
                )
            })
        })
    });
    // The blocking-std echo: no async runtime in the function, so what is left is the engine
    // and the two loopback round trips.
    let std_zip = nubis_lambda::package::build_zip(&[("bootstrap", &std_bin, 0o755)]).unwrap();
    let std_fn = CreateFunction::zip("std-echo", "provided.al2023", "bootstrap", std_zip);
    region.create_function(std_fn.clone()).unwrap();
    single.create_function(std_fn).unwrap();
    g.bench_function("invoke_warm_std_fixture", |b| {
        b.iter(|| {
            rt.block_on(async {
                black_box(
                    region
                        .invoke(InvokeRequest::new("std-echo", payload))
                        .await
                        .unwrap(),
                )
            })
        })
    });
    g.bench_function("invoke_warm_std_fixture_current_thread", |b| {
        b.iter(|| {
            current.block_on(async {
                black_box(
                    single
                        .invoke(InvokeRequest::new("std-echo", payload))
                        .await
                        .unwrap(),
                )
            })
        })
    });
    g.sample_size(20).measurement_time(Duration::from_secs(10));
    g.bench_function("invoke_cold", |b| {
        b.iter(|| {
            region
                .update_function_configuration("rusty", UpdateFunctionConfiguration::default())
                .unwrap();
            rt.block_on(async {
                black_box(
                    region
                        .invoke(InvokeRequest::new("rusty", payload))
                        .await
                        .unwrap(),
                )
            })
        })
    });
    g.finish();
}

criterion_group!(benches, in_process, loopback, process);
criterion_main!(benches);
