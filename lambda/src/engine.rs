//! The engine value: [`Lambda`] holds every region's functions, the registry of in-process
//! handlers and the hooks the facade connects; [`LambdaRegion`] is the cheap region-scoped handle
//! every operation goes through.
//!
//! Architecture invariant: the engine knows no other service. Code in S3, destinations, dead-letter
//! queues and event sources reach other engines only through the traits in [`crate::hooks`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use nubis_core::{Env, Region};
use parking_lot::{Mutex, RwLock};

use crate::asynchronous::AsyncTracker;
use crate::config::{AliasConfiguration, EventInvokeConfig, FunctionConfiguration};
use crate::environment::{Concurrency, ExecEnv};
use crate::fasthash::FastMap;
use crate::handler::Handler;
use crate::hooks::{CodeStore, DestinationSink, EventSourceConnector, RecordingSink};
use crate::logs::LogStore;
use crate::package::CodePackage;
use crate::runtime::HandlerKind;

/// Engine settings. [`LambdaConfig::default`] follows AWS's defaults.
#[derive(Debug, Clone)]
pub struct LambdaConfig {
    /// The regional account concurrency limit (AWS default 1000).
    pub account_concurrency: u32,
    /// How long an idle execution environment lives before it is reclaimed.
    pub idle_timeout: Duration,
    /// How long a new function stays `Pending` and an update `InProgress`, on the clock
    /// (0: the change completes as soon as the call that made it has answered).
    pub state_transition: Duration,
    /// The init phase's limit (AWS: 10 s for on-demand environments).
    pub init_timeout: Duration,
    /// The Python interpreter that runs `awslambdaric` for `python3.*` functions.
    pub python: String,
    /// Extra environment variables for process functions (the facade sets `AWS_ENDPOINT_URL`
    /// here so that a function's SDK calls reach `nubis serve`).
    pub extra_env: BTreeMap<String, String>,
    /// The credentials given to process functions (access key, secret, session token).
    pub credentials: (String, String, String),
    /// Whether process functions are frozen (`SIGSTOP`) between invocations, as AWS freezes
    /// execution environments (default). Off, background work keeps running between
    /// invocations.
    pub freeze: bool,
    /// How long (on the clock) an environment's runtime must have been idle — no invocation
    /// started or ended — before it is frozen. Back-to-back invocations are never frozen in
    /// between, so a warm invocation sends no signal.
    pub freeze_after: Duration,
}

impl Default for LambdaConfig {
    fn default() -> Self {
        LambdaConfig {
            account_concurrency: 1000,
            idle_timeout: Duration::from_secs(600),
            state_transition: Duration::ZERO,
            init_timeout: Duration::from_secs(10),
            python: "python3".into(),
            extra_env: BTreeMap::new(),
            credentials: (
                "AKIAIOSFODNN7EXAMPLE".into(),
                "nubis-lambda-secret".into(),
                "nubis-lambda-session".into(),
            ),
            freeze: true,
            freeze_after: Duration::from_millis(10),
        }
    }
}

/// The Lambda engine: cheap to clone, every clone shares the same state.
#[derive(Clone)]
pub struct Lambda {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Lambda {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lambda")
            .field("regions", &self.inner.regions.lock().len())
            .finish()
    }
}

pub(crate) struct Inner {
    pub(crate) env: Env,
    pub(crate) config: LambdaConfig,
    regions: Mutex<HashMap<Region, Arc<RegionState>>>,
    pub(crate) handlers: RwLock<HashMap<String, Arc<dyn Handler>>>,
    pub(crate) hooks: RwLock<Hooks>,
    pub(crate) async_tracker: AsyncTracker,
    pub(crate) recorded: Arc<RecordingSink>,
}

#[derive(Default)]
pub(crate) struct Hooks {
    pub(crate) code_store: Option<Arc<dyn CodeStore>>,
    pub(crate) destinations: Option<Arc<dyn DestinationSink>>,
    pub(crate) event_sources: Option<Arc<dyn EventSourceConnector>>,
}

impl Lambda {
    /// An engine with AWS's default limits.
    pub fn new(env: Env) -> Lambda {
        Lambda::with_config(env, LambdaConfig::default())
    }

    /// An engine with the given settings.
    pub fn with_config(env: Env, config: LambdaConfig) -> Lambda {
        Lambda {
            inner: Arc::new(Inner {
                env: env.for_engine("lambda"),
                config,
                regions: Mutex::new(HashMap::new()),
                handlers: RwLock::new(HashMap::new()),
                hooks: RwLock::new(Hooks::default()),
                async_tracker: AsyncTracker::default(),
                recorded: Arc::new(RecordingSink::default()),
            }),
        }
    }

    /// The engine's settings.
    pub fn config(&self) -> &LambdaConfig {
        &self.inner.config
    }

    /// The environment the engine was built with.
    pub fn env(&self) -> &Env {
        &self.inner.env
    }

    /// The handle for one region, creating its state on first use.
    pub fn region(&self, region: &Region) -> LambdaRegion {
        let state =
            {
                let mut regions = self.inner.regions.lock();
                Arc::clone(regions.entry(region.clone()).or_insert_with(|| {
                    Arc::new(RegionState::new(region.clone(), &self.inner.config))
                }))
            };
        LambdaRegion {
            lambda: self.clone(),
            state,
        }
    }

    /// Registers an in-process handler; functions whose Handler is `nubis:<name>` run it.
    ///
    /// ```
    /// # use nubis_lambda::{Lambda, HandlerError};
    /// let lambda = Lambda::new(nubis_core::Env::default());
    /// lambda.register_handler("echo", |event: serde_json::Value, _ctx| async move { Ok::<_, HandlerError>(event) });
    /// ```
    pub fn register_handler(&self, name: &str, handler: impl Handler) {
        self.inner
            .handlers
            .write()
            .insert(name.to_owned(), Arc::new(handler));
    }

    /// Removes an in-process handler; environments already running it keep it until reclaimed.
    pub fn unregister_handler(&self, name: &str) {
        self.inner.handlers.write().remove(name);
    }

    /// Connects the store `Code.S3Bucket`/`S3Key` packages are read from (the facade's S3).
    pub fn set_code_store(&self, store: Arc<dyn CodeStore>) {
        self.inner.hooks.write().code_store = Some(store);
    }

    /// Connects where destination records and dead letters go. Without one, deliveries are
    /// kept in memory and readable with [`Lambda::deliveries`] (Lambda-function destinations
    /// are always delivered by the engine itself).
    pub fn set_destination_sink(&self, sink: Arc<dyn DestinationSink>) {
        self.inner.hooks.write().destinations = Some(sink);
    }

    /// Connects the event sources that event source mappings poll.
    pub fn set_event_source_connector(&self, connector: Arc<dyn EventSourceConnector>) {
        self.inner.hooks.write().event_sources = Some(connector);
    }

    /// Deliveries made while no [`DestinationSink`] was connected.
    pub fn deliveries(&self) -> Vec<crate::hooks::Delivery> {
        self.inner.recorded.deliveries()
    }

    /// Waits until no asynchronous invocation is running: every queued event has finished or is
    /// waiting on the clock (a retry backoff). Tests call it after `ManualClock::advance`.
    pub async fn settle(&self) {
        self.inner
            .async_tracker
            .settle(&*self.inner.env.clock)
            .await;
    }

    /// Reclaims every execution environment that has been idle past the idle timeout.
    pub fn reclaim_idle(&self) -> usize {
        let regions: Vec<Arc<RegionState>> = self.inner.regions.lock().values().cloned().collect();
        let now = self.inner.env.clock.now();
        regions
            .iter()
            .map(|r| r.reclaim_idle(now, self.inner.config.idle_timeout))
            .sum()
    }

    /// Deletes every function, mapping and log in every region.
    pub fn reset(&self) {
        let regions: Vec<Arc<RegionState>> =
            self.inner.regions.lock().drain().map(|(_, r)| r).collect();
        for r in regions {
            for (_, f) in std::mem::take(&mut *r.functions.write()) {
                f.retire();
            }
            r.logs.clear();
            r.mappings.lock().clear();
            r.rules.clear();
            r.layers.lock().clear();
        }
        self.inner.recorded.clear();
    }
}

/// A region-scoped handle to the engine. Cheap to clone.
#[derive(Clone)]
pub struct LambdaRegion {
    pub(crate) lambda: Lambda,
    pub(crate) state: Arc<RegionState>,
}

impl std::fmt::Debug for LambdaRegion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaRegion")
            .field("region", &self.state.region)
            .finish()
    }
}

impl LambdaRegion {
    /// The region.
    pub fn region(&self) -> &Region {
        &self.state.region
    }

    /// The engine.
    pub fn lambda(&self) -> &Lambda {
        &self.lambda
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.lambda.inner
    }

    pub(crate) fn now(&self) -> SystemTime {
        self.lambda.inner.env.clock.now()
    }

    /// The unqualified ARN of function `name` in this region.
    pub fn function_arn(&self, name: &str) -> String {
        format!(
            "arn:{}:lambda:{}:{}:function:{name}",
            self.state.region.partition().as_str(),
            self.state.region.as_str(),
            self.lambda.inner.env.account.as_str()
        )
    }

    /// Every log event of function `name` (log group `/aws/lambda/<name>`), oldest first.
    pub fn log_events(&self, name: &str) -> Vec<crate::logs::LogEvent> {
        self.state.logs.events(&crate::logs::log_group_name(name))
    }

    /// The messages of [`LambdaRegion::log_events`].
    pub fn log_lines(&self, name: &str) -> Vec<String> {
        self.log_events(name)
            .into_iter()
            .map(|e| e.message)
            .collect()
    }

    /// The log streams of function `name` (one per execution environment).
    pub fn log_streams(&self, name: &str) -> Vec<String> {
        self.state.logs.streams(&crate::logs::log_group_name(name))
    }

    /// Every log group in this region.
    pub fn log_groups(&self) -> Vec<String> {
        self.state.logs.groups()
    }

    /// How many execution environments function `name` has (idle ones; busy ones are in use).
    pub fn idle_environments(&self, name: &str) -> usize {
        self.state
            .functions
            .read()
            .get(name)
            .map(|f| f.pools.lock().values().map(Vec::len).sum())
            .unwrap_or(0)
    }

    /// How many invocations of function `name` are running now.
    pub fn running_invocations(&self, name: &str) -> u32 {
        self.state
            .functions
            .read()
            .get(name)
            .map(|f| f.in_flight.load(Ordering::Relaxed))
            .unwrap_or(0)
    }
}

pub(crate) struct RegionState {
    pub(crate) region: Region,
    /// The region's name, shared by every usage record metered in it.
    pub(crate) region_name: Arc<str>,
    pub(crate) functions: RwLock<BTreeMap<String, Arc<FunctionEntry>>>,
    pub(crate) concurrency: Concurrency,
    pub(crate) logs: LogStore,
    pub(crate) mappings: Mutex<BTreeMap<String, crate::esm::MappingState>>,
    pub(crate) rules: crate::rules::Rules,
    pub(crate) layers: crate::layers::LayerStore,
}

impl RegionState {
    fn new(region: Region, config: &LambdaConfig) -> Self {
        RegionState {
            region_name: region.as_str().into(),
            region,
            functions: RwLock::new(BTreeMap::new()),
            concurrency: Concurrency::new(config.account_concurrency),
            logs: LogStore::default(),
            mappings: Mutex::new(BTreeMap::new()),
            rules: Default::default(),
            layers: Default::default(),
        }
    }

    fn reclaim_idle(&self, now: SystemTime, idle: Duration) -> usize {
        let functions: Vec<Arc<FunctionEntry>> = self.functions.read().values().cloned().collect();
        functions.iter().map(|f| f.reclaim_idle(now, idle)).sum()
    }
}

/// One function: its versions, aliases and settings, and its execution environments.
pub(crate) struct FunctionEntry {
    pub(crate) name: Arc<str>,
    /// The unqualified ARN, shared by invocations that name it and by usage records.
    pub(crate) arn: Arc<str>,
    /// `/aws/lambda/<name>`.
    pub(crate) group: Arc<str>,
    pub(crate) data: Mutex<FunctionData>,
    /// Idle execution environments by version.
    pub(crate) pools: Mutex<FastMap<String, Vec<ExecEnv>>>,
    /// Reserved concurrency, or -1 for none.
    pub(crate) reserved: AtomicI64,
    pub(crate) in_flight: AtomicU32,
    pub(crate) deleted: AtomicBool,
}

impl FunctionEntry {
    pub(crate) fn new(name: String, arn: String, data: FunctionData) -> Self {
        FunctionEntry {
            group: crate::logs::log_group_name(&name).into(),
            name: name.into(),
            arn: arn.into(),
            data: Mutex::new(data),
            pools: Mutex::new(FastMap::default()),
            reserved: AtomicI64::new(-1),
            in_flight: AtomicU32::new(0),
            deleted: AtomicBool::new(false),
        }
    }

    pub(crate) fn reserved(&self) -> Option<u32> {
        u32::try_from(self.reserved.load(Ordering::Acquire)).ok()
    }

    /// Drops every environment (killing process functions) and marks the function gone.
    pub(crate) fn retire(&self) {
        self.deleted.store(true, Ordering::Release);
        self.pools.lock().clear();
    }

    pub(crate) fn reclaim_idle(&self, now: SystemTime, idle: Duration) -> usize {
        let mut pools = self.pools.lock();
        let mut n = 0;
        for envs in pools.values_mut() {
            let before = envs.len();
            envs.retain(|e| e.provisioned || e.last_used + idle > now);
            n += before - envs.len();
        }
        n
    }
}

/// A function's mutable control-plane state.
pub(crate) struct FunctionData {
    pub(crate) latest: Arc<VersionData>,
    pub(crate) versions: BTreeMap<u64, Arc<VersionData>>,
    pub(crate) next_version: u64,
    pub(crate) aliases: BTreeMap<String, AliasConfiguration>,
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) event_invoke: BTreeMap<String, EventInvokeConfig>,
    pub(crate) provisioned: BTreeMap<String, crate::functions::ProvisionedState>,
    /// When the function leaves `Pending`.
    pub(crate) active_at: SystemTime,
    /// When the last update leaves `InProgress`.
    pub(crate) update_done_at: Option<SystemTime>,
}

/// One version's immutable snapshot ($LATEST is replaced, never mutated).
#[derive(Debug)]
pub(crate) struct VersionData {
    pub(crate) config: FunctionConfiguration,
    pub(crate) code: Arc<CodePackage>,
    pub(crate) kind: HandlerKind,
    pub(crate) env_vars: Arc<BTreeMap<String, String>>,
    /// `config.version`, shared with every START line that names it.
    pub(crate) version_name: Arc<str>,
    /// The packages of `config.layers`, in order (kept even if a layer version is deleted).
    pub(crate) layers: Vec<Arc<CodePackage>>,
}
