//! Process functions: a deployment package unpacked into a task root and run as a child process
//! that speaks the Lambda Runtime API — `provided.*` runtimes run the package's `bootstrap`,
//! `python3.*` runtimes run `python3 -m awslambdaric <handler>`.
//!
//! The child gets the environment AWS documents (`AWS_LAMBDA_RUNTIME_API`, `_HANDLER`,
//! `LAMBDA_TASK_ROOT`, `AWS_LAMBDA_FUNCTION_*`, region, credentials, the function's variables).
//! Memory: the child starts under `sh -c 'ulimit -d <MemorySize in KB>'`, so its data segment
//! and anonymous writable mappings (the heap, thread stacks) are capped at the function's memory
//! — an rlimit set without `unsafe` code; `Max Memory Used` is the larger of the child's peak
//! RSS and its RSS when the invocation ended (see [`freezer`]). Timeouts are
//! `Clock::sleep_until` deadlines: when one passes, the child is killed and the environment
//! discarded.
//!
//! Freezing: the child runs in its own process group, which is stopped (`SIGSTOP`) once the
//! environment has been idle for `LambdaConfig::freeze_after` with its runtime waiting in `next`,
//! and continued (`SIGCONT`) as the next event is handed over (see [`runtime_api`]), so
//! background threads and processes the function started do not run between invocations, as
//! AWS freezes an execution environment, while back-to-back invocations pay no signal. An
//! invocation ends when the runtime posts its `/response` or `/error` (or exits); its output is
//! then read to the end without waiting (see [`output`]).
//!
//! Init: an on-demand environment's init phase is limited to `LambdaConfig::init_timeout`
//! (10 s); when it fails or times out, it is retried once inside the invocation, bounded by the
//! function's timeout (`INIT_REPORT … Phase: invoke`), as Lambda does. A provisioned
//! environment's init may take up to the larger of 130 s and the function timeout.

mod freezer;
pub mod http1;
pub mod output;
pub mod runtime_api;

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use parking_lot::Mutex;
use rustix::process::{Pid, Signal};
use tokio::sync::{oneshot, watch};

use crate::engine::{LambdaRegion, VersionData};
use crate::environment::{ExecEnv, Invocation, RunOutcome, Runner};
use crate::handler::HandlerError;
use crate::invoke::InitFailure;
use crate::logs::Line;
use crate::runtime::{self, HandlerKind};
use output::Output;
use runtime_api::{Event, InitOutcome, RuntimeApi, RuntimeOutcome};

/// A running child process and its Runtime API listener.
pub(crate) struct ProcessEnv {
    api: RuntimeApi,
    pid: Option<Pid>,
    output: Output,
    exit_rx: watch::Receiver<Option<String>>,
    kill_tx: Option<oneshot::Sender<()>>,
    /// The environment's layer directory (its `/opt`), removed with the environment.
    _opt: Option<tempfile::TempDir>,
    _task_root: Arc<tempfile::TempDir>,
}

impl Drop for ProcessEnv {
    fn drop(&mut self) {
        self.kill();
    }
}

fn failure(error_type: &str, message: String, lines: Vec<String>, stream: Arc<str>) -> InitFailure {
    InitFailure {
        payload: Bytes::from(
            HandlerError::new(error_type, message)
                .to_payload()
                .to_string(),
        ),
        lines,
        stream,
        retryable: false,
    }
}

fn error_payload(error_type: Option<String>, body: Bytes) -> Bytes {
    if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_ok()
        && body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
    {
        return body;
    }
    let msg = String::from_utf8_lossy(&body).into_owned();
    Bytes::from(
        HandlerError::new(error_type.unwrap_or_else(|| "Runtime.Unknown".into()), msg)
            .to_payload()
            .to_string(),
    )
}

/// Whether `python` can import `awslambdaric` (asked once per interpreter).
async fn has_awslambdaric(python: &str) -> bool {
    static CACHE: std::sync::OnceLock<Mutex<std::collections::HashMap<String, bool>>> =
        std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().get(python) {
        return *v;
    }
    let ok = tokio::process::Command::new(python)
        .args(["-c", "import awslambdaric"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success());
    cache.lock().insert(python.to_owned(), ok);
    ok
}

/// Which init phase an environment start is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InitPhase {
    /// A provisioned-concurrency environment.
    pub(crate) provisioned: bool,
    /// The retry inside an invocation after the init phase failed.
    pub(crate) retry: bool,
    /// How long init may take.
    pub(crate) limit: Duration,
}

/// Starts a process environment for `v` and waits for its init phase (the first `next`).
pub(crate) async fn start(
    region: &LambdaRegion,
    v: &VersionData,
    stream: Arc<str>,
    init: InitPhase,
) -> Result<ExecEnv, InitFailure> {
    let inner = region.inner();
    let cfg = &v.config;
    let code = Arc::clone(&v.code);
    let unpack_failed = |e: String, stream| {
        failure(
            "Runtime.Unknown",
            format!("Could not unpack the deployment package: {e}"),
            vec![],
            stream,
        )
    };
    let root = match tokio::task::spawn_blocking(move || code.task_root()).await {
        Ok(Ok(root)) => root,
        Ok(Err(e)) => return Err(unpack_failed(e.to_string(), stream)),
        Err(e) => return Err(unpack_failed(e.to_string(), stream)),
    };
    // The layers, merged in order into this environment's own directory (AWS's `/opt`).
    let opt = if v.layers.is_empty() {
        None
    } else {
        let layers = v.layers.clone();
        match tokio::task::spawn_blocking(move || crate::package::extract_layers(&layers)).await {
            Ok(Ok(dir)) => Some(dir),
            Ok(Err(e)) => return Err(unpack_failed(format!("a layer: {e}"), stream)),
            Err(e) => return Err(unpack_failed(format!("a layer: {e}"), stream)),
        }
    };
    let handler = cfg.handler.clone().unwrap_or_default();
    let (program, args): (String, Vec<String>) = match v.kind {
        HandlerKind::Python => {
            if !has_awslambdaric(&inner.config.python).await {
                return Err(failure(
                    "Runtime.Unavailable",
                    format!(
                        "{} functions run through awslambdaric, which '{}' cannot import on this machine: install it with `pip install awslambdaric`",
                        cfg.runtime.as_deref().unwrap_or("python"),
                        inner.config.python
                    ),
                    vec![],
                    stream,
                ));
            }
            (
                inner.config.python.clone(),
                vec!["-m".into(), "awslambdaric".into(), handler.clone()],
            )
        }
        _ => {
            // The function's own bootstrap, else a layer's (`/var/task/bootstrap`, then
            // `/opt/bootstrap`, as Lambda looks).
            let mut bootstrap = root.path().join("bootstrap");
            if !bootstrap.is_file()
                && let Some(opt) = &opt
            {
                bootstrap = opt.path().join("bootstrap");
            }
            if !bootstrap.is_file() {
                return Err(failure(
                    "Runtime.InvalidEntrypoint",
                    "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]".into(),
                    vec![],
                    stream,
                ));
            }
            (bootstrap.to_string_lossy().into_owned(), vec![])
        }
    };
    let (api, init_rx) = match runtime_api::serve(
        inner.config.freeze,
        Arc::clone(&inner.env.clock),
        inner.config.freeze_after,
        (!init.provisioned).then_some(inner.config.idle_timeout),
    )
    .await
    {
        Ok(x) => x,
        Err(e) => {
            return Err(failure(
                "Runtime.Unknown",
                format!("Could not start the Runtime API listener: {e}"),
                vec![],
                stream,
            ));
        }
    };
    let (output, stdout, stderr) = match Output::capture() {
        Ok(x) => x,
        Err(e) => {
            return Err(failure(
                "Runtime.Unknown",
                format!("Could not capture the function's output: {e}"),
                vec![],
                stream,
            ));
        }
    };

    let mut cmd = tokio::process::Command::new("sh");
    // `ulimit -d` caps the data segment (heap and anonymous writable mappings) in KB.
    cmd.arg("-c")
        .arg("ulimit -d \"$1\" 2>/dev/null; shift; exec \"$@\"")
        .arg("sh")
        .arg((u64::from(cfg.memory_size) * 1024).to_string())
        .arg(&program)
        .args(&args)
        .current_dir(root.path())
        .env_clear()
        .stdin(std::process::Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        // Its own process group, so freezing and killing reach what it starts too.
        .process_group(0)
        .kill_on_drop(true);
    for (k, val) in std::env::vars_os() {
        // The host's PATH and HOME, so interpreters resolve as they do for the user.
        if k == "PATH" || k == "HOME" || k.to_string_lossy().starts_with("PYENV") {
            cmd.env(k, val);
        }
    }
    let root_str = root.path().to_string_lossy().into_owned();
    let mut python_path = root_str.clone();
    if let Some(opt) = &opt {
        // Where AWS puts `/opt/bin`, `/opt/lib`, `/opt/python` … on the search paths, this
        // environment's layer directory is put instead (see docs/lambda.md, "Layers").
        let o = opt.path().to_string_lossy().into_owned();
        let host_path = std::env::var("PATH").unwrap_or_default();
        cmd.env("PATH", format!("{o}/bin:{host_path}"))
            .env("LD_LIBRARY_PATH", format!("{o}/lib"))
            .env(
                "NODE_PATH",
                format!("{o}/nodejs/node_modules:{o}/nodejs/node20/node_modules"),
            )
            .env("NUBIS_LAMBDA_OPT", &o);
        python_path = format!("{root_str}:{o}/python");
        if let Some(minor) = cfg
            .runtime
            .as_deref()
            .and_then(|r| r.strip_prefix("python"))
        {
            python_path.push_str(&format!(":{o}/python/lib/python{minor}/site-packages"));
        }
    }
    let region_name = region.region().as_str();
    let (ak, sk, st) = &inner.config.credentials;
    for (k, val) in v.env_vars.iter() {
        cmd.env(k, val);
    }
    for (k, val) in &inner.config.extra_env {
        cmd.env(k, val);
    }
    cmd.env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
        .env("_HANDLER", &handler)
        .env("LAMBDA_TASK_ROOT", &root_str)
        .env("LAMBDA_RUNTIME_DIR", &root_str)
        .env("PYTHONPATH", &python_path)
        .env("AWS_LAMBDA_FUNCTION_NAME", &cfg.function_name)
        .env(
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            cfg.memory_size.to_string(),
        )
        .env("AWS_LAMBDA_FUNCTION_VERSION", &cfg.version)
        .env(
            "AWS_LAMBDA_INITIALIZATION_TYPE",
            if init.provisioned {
                "provisioned-concurrency"
            } else {
                "on-demand"
            },
        )
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            crate::logs::log_group_name(&cfg.function_name),
        )
        .env("AWS_LAMBDA_LOG_STREAM_NAME", &*stream)
        .env("AWS_REGION", region_name)
        .env("AWS_DEFAULT_REGION", region_name)
        .env("AWS_ACCESS_KEY_ID", ak)
        .env("AWS_SECRET_ACCESS_KEY", sk)
        .env("AWS_SESSION_TOKEN", st)
        .env("TZ", ":UTC")
        .env("LANG", "en_US.UTF-8");
    if let Some(exec_env) = cfg.runtime.as_deref().and_then(runtime::execution_env) {
        cmd.env("AWS_EXECUTION_ENV", exec_env);
    }
    let spawned = cmd.spawn();
    // The command holds the child's ends of the output socket: close them, so the engine sees
    // the end of the output when the child (and whatever it started) is gone.
    drop(cmd);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            return Err(failure(
                "Runtime.InvalidEntrypoint",
                format!("Could not start {program}: {e}"),
                vec![],
                stream,
            ));
        }
    };
    let pid = child
        .id()
        .and_then(|p| i32::try_from(p).ok())
        .and_then(Pid::from_raw);
    let (exit_tx, exit_rx) = watch::channel(None);
    if let Some(pid) = pid {
        api.freezer.attach(pid, exit_rx.clone());
    }
    let (kill_tx, kill_rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let status = tokio::select! {
            s = child.wait() => s,
            _ = kill_rx => {
                let _ = child.start_kill();
                child.wait().await
            }
        };
        let text = match status {
            Ok(s) => describe_exit(s),
            Err(e) => e.to_string(),
        };
        let _ = exit_tx.send(Some(text));
    });
    let mut penv = ProcessEnv {
        api,
        pid,
        output,
        exit_rx,
        kill_tx: Some(kill_tx),
        _opt: opt,
        _task_root: root,
    };

    let clock = Arc::clone(&inner.env.clock);
    let started = clock.now();
    let phase = if init.retry { "invoke" } else { "init" };
    let mut exit_rx = penv.exit_rx.clone();
    let outcome = tokio::select! {
        r = init_rx => r.ok(),
        _ = exit_rx.changed() => None,
        _ = clock.sleep_until(started + init.limit) => {
            penv.kill();
            let mut l = penv.flushed_lines();
            let ms = init.limit.as_secs_f64() * 1000.0;
            l.push(format!("INIT_REPORT Init Duration: {ms:.2} ms\tPhase: {phase}\tStatus: timeout"));
            let mut f = failure("Sandbox.Timedout", format!("Error: Task timed out after {:.2} seconds", init.limit.as_secs_f64()), l, stream);
            f.retryable = true;
            return Err(f);
        }
    };
    let init_ms = |clock: &nubis_core::SharedClock| {
        clock
            .now()
            .duration_since(started)
            .unwrap_or_default()
            .as_secs_f64()
            * 1000.0
    };
    match outcome {
        Some(InitOutcome::Ready) => {
            // The runtime asked for work: init is over, and the environment waits frozen (its
            // Runtime API server stopped it in `next`).
            Ok(ExecEnv {
                stream,
                sink: Default::default(),
                runner: Runner::Process(penv),
                last_used: clock.now(),
                provisioned: init.provisioned,
                revision: cfg.revision_id.clone(),
                log_buf: Vec::new(),
            })
        }
        Some(InitOutcome::Failed { error_type, body }) => {
            let mut lines = penv.flushed_lines();
            lines.push(format!(
                "INIT_REPORT Init Duration: {:.2} ms\tPhase: {phase}\tStatus: error\tError Type: {}",
                init_ms(&clock),
                error_type.as_deref().unwrap_or("Runtime.Unknown")
            ));
            Err(InitFailure {
                payload: error_payload(error_type, body),
                lines,
                stream,
                retryable: true,
            })
        }
        None => {
            // The process ended before asking for work.
            let _ = exit_rx.wait_for(Option::is_some).await;
            let status = exit_rx.borrow().clone().unwrap_or_default();
            let mut lines = penv.flushed_lines();
            lines.push(format!(
                "INIT_REPORT Init Duration: {:.2} ms\tPhase: {phase}\tStatus: error\tError Type: Runtime.ExitError",
                init_ms(&clock)
            ));
            let mut f = failure(
                "Runtime.ExitError",
                format!("RequestId: Error: Runtime exited with error: {status}"),
                lines,
                stream,
            );
            f.retryable = true;
            Err(f)
        }
    }
}

fn describe_exit(s: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (s.code(), s.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(9)) => "signal: killed".into(),
        (None, Some(6)) => "signal: aborted".into(),
        (None, Some(11)) => "signal: segmentation fault".into(),
        (None, Some(sig)) => format!("signal: {sig}"),
        (None, None) => "unknown exit".into(),
    }
}

impl ProcessEnv {
    /// Output lines not yet attributed to an invocation, read to the end.
    pub(crate) fn take_output(&mut self, lines: &mut Vec<Line>) {
        self.output.flush(lines);
    }

    fn flushed_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        self.output.flush(&mut lines);
        lines.into_iter().map(|l| l.render()).collect()
    }

    /// Whether the child is still running.
    pub(crate) fn alive(&self) -> bool {
        self.exit_rx.borrow().is_none()
    }

    fn kill(&mut self) {
        // The whole group: a function's own children die with its environment. Only while the
        // leader lives: once it is reaped its group id may belong to someone else.
        if let Some(pid) = self.pid
            && self.alive()
        {
            let _ = rustix::process::kill_process_group(pid, Signal::KILL);
        }
        if let Some(k) = self.kill_tx.take() {
            let _ = k.send(());
        }
    }

    pub(crate) async fn run(&mut self, inv: Invocation) -> (RunOutcome, Option<u64>) {
        let id = inv.request_id.as_str().to_owned();
        let exit_error = |status: &str| {
            let e = HandlerError::new(
                "Runtime.ExitError",
                format!("RequestId: {id} Error: Runtime exited with error: {status}"),
            );
            RunOutcome::Error {
                payload: Bytes::from(e.to_payload().to_string()),
                fatal: true,
            }
        };
        if let Some(status) = self.exit_rx.borrow().clone() {
            return (exit_error(&status), None);
        }
        let deadline_ms = inv
            .deadline
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let client_context = inv.context.client_context.as_deref().and_then(|b| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .decode(b)
                .ok()
                .and_then(|raw| String::from_utf8(raw).ok())
        });
        let event = Event {
            trace_id: trace_id(&id, deadline_ms),
            request_id: id.clone(),
            payload: inv.payload,
            deadline_ms,
            invoked_arn: Arc::clone(&inv.context.invoked_function_arn),
            client_context,
        };
        let clock = Arc::clone(&inv.context.clock);
        let mut exit_rx = self.exit_rx.clone();
        // The Runtime API thaws the environment as it hands the event over; the invocation's
        // own task writes the event and reads the answer.
        let outcome = tokio::select! {
            r = self.api.invoke(event) => match r {
                Some(RuntimeOutcome::Response(b)) => RunOutcome::Response(b),
                Some(RuntimeOutcome::Error { error_type, body }) => RunOutcome::Error { payload: error_payload(error_type, body), fatal: false },
                Some(RuntimeOutcome::TooLarge) => {
                    let e = HandlerError::new("Function.ResponseSizeTooLarge", format!("Response payload size exceeded maximum allowed payload size ({} bytes).", crate::invoke::MAX_SYNC_PAYLOAD));
                    RunOutcome::Error { payload: Bytes::from(e.to_payload().to_string()), fatal: false }
                }
                None => exit_error("the runtime abandoned the invocation"),
            },
            status = exit_rx.wait_for(Option::is_some) => {
                let status = status.map(|s| s.clone().unwrap_or_default()).unwrap_or_default();
                exit_error(&status)
            }
            _ = clock.sleep_until(inv.deadline) => {
                self.kill();
                RunOutcome::Timeout
            }
        };
        // The invocation is over: the environment freezes when its runtime next asks for work.
        // Its output up to this point is read by the caller (`take_output`), without waiting.
        let mem = self.api.freezer.used_mb();
        (outcome, mem)
    }
}

/// An X-Ray trace header derived from the request id.
fn trace_id(request_id: &str, deadline_ms: u64) -> String {
    let hex: String = request_id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(24)
        .collect();
    format!("Root=1-{:08x}-{hex:0<24};Sampled=0", deadline_ms / 1000)
}
