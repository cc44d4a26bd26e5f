//! [`Cloud`]: one in-process AWS — regions, an account, a clock, and every engine built in.

use std::sync::Arc;

use nubis_core::{AccountId, Env, IdGen, ManualClock, Meter, Region, SharedClock, SystemClock};
use nubis_wire::Service;

#[allow(unused_imports)] // Used only by the engine features that are enabled.
use crate::engines;

/// Errors building a [`Cloud`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A region code is not a real AWS region.
    #[error(transparent)]
    Core(#[from] nubis_core::Error),
    /// The default region is not among the cloud's regions.
    #[error("the default region {0} is not one of the cloud's regions")]
    DefaultRegionMissing(Region),
}

/// Builds a [`Cloud`].
#[derive(Debug, Clone)]
pub struct CloudBuilder {
    regions: Vec<Region>,
    account: AccountId,
    clock: Option<SharedClock>,
    manual: Option<ManualClock>,
    seed: u64,
}

impl Default for CloudBuilder {
    fn default() -> Self {
        CloudBuilder {
            regions: Vec::new(),
            account: AccountId::LOCAL,
            clock: None,
            manual: None,
            seed: 0,
        }
    }
}

impl CloudBuilder {
    /// Adds a region; the first one added is the default for unsigned requests.
    /// With none, the cloud has `us-east-1`. Engines also serve any other real region on demand.
    pub fn region(mut self, code: &str) -> Result<Self, Error> {
        let r = Region::new(code)?;
        if !self.regions.contains(&r) {
            self.regions.push(r);
        }
        Ok(self)
    }

    /// Adds several regions (see [`CloudBuilder::region`]).
    pub fn regions<'a>(mut self, codes: impl IntoIterator<Item = &'a str>) -> Result<Self, Error> {
        for c in codes {
            self = self.region(c)?;
        }
        Ok(self)
    }

    /// The account that owns every resource.
    pub fn account(mut self, account: AccountId) -> Self {
        self.account = account;
        self
    }

    /// Runs on the given clock.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self.manual = None;
        self
    }

    /// Runs on a [`ManualClock`] standing at 2026-01-01T00:00:00Z; reach it with
    /// [`Cloud::manual_clock`].
    pub fn manual_clock(self) -> Self {
        self.with_manual_clock(ManualClock::at_default_epoch())
    }

    /// Runs on the given manual clock.
    pub fn with_manual_clock(mut self, clock: ManualClock) -> Self {
        self.clock = Some(clock.shared());
        self.manual = Some(clock);
        self
    }

    /// Seeds every id the engines generate.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Builds the cloud and every engine compiled in.
    pub fn build(self) -> Result<Cloud, Error> {
        let regions = if self.regions.is_empty() {
            vec![Region::US_EAST_1]
        } else {
            self.regions
        };
        let clock = self.clock.unwrap_or_else(SystemClock::shared);
        let env = Env {
            account: self.account,
            clock,
            ids: IdGen::new(self.seed),
            meter: Meter::new(),
        };
        #[allow(unused_mut)]
        let mut services: Vec<Arc<dyn Service>> = Vec::new();

        #[cfg(feature = "dynamo")]
        let dynamo = {
            let (engine, service) = engines::dynamo::build(&env.for_engine("dynamo"));
            services.push(service);
            engine
        };
        #[cfg(feature = "s3")]
        let s3 = {
            let (engine, service) = engines::s3::build(&env.for_engine("s3"));
            services.push(service);
            engine
        };
        #[cfg(feature = "neptune")]
        let neptune = {
            let (engine, service) = engines::neptune::build(&env.for_engine("neptune"));
            services.push(service);
            engine
        };
        #[cfg(feature = "aurora")]
        let aurora = {
            let (engine, service) = engines::aurora::build(&env.for_engine("aurora"));
            services.push(service);
            engine
        };
        #[cfg(feature = "aurora")]
        let rds = {
            let (engine, service) = engines::rds::build(&env.for_engine("rds"), &aurora);
            services.push(service);
            engine
        };
        #[cfg(feature = "lambda")]
        let lambda = {
            let (engine, service) = engines::lambda::build(&env.for_engine("lambda"));
            services.push(service);
            engine
        };

        // Cross-service flows (see `engines::links`).
        #[cfg(all(feature = "s3", feature = "lambda"))]
        lambda.set_code_store(Arc::new(engines::links::S3Objects::new(Arc::clone(&s3))));
        #[cfg(all(feature = "s3", feature = "neptune"))]
        neptune.set_object_source(Arc::new(engines::links::S3Objects::new(Arc::clone(&s3))));
        #[cfg(all(feature = "dynamo", feature = "lambda"))]
        lambda.set_event_source_connector(Arc::new(engines::links::DynamoStreams::new(
            Arc::clone(&dynamo),
        )));

        Ok(Cloud {
            inner: Arc::new(Inner {
                env,
                regions,
                manual: self.manual,
                services,
                #[cfg(feature = "dynamo")]
                dynamo,
                #[cfg(feature = "s3")]
                s3,
                #[cfg(feature = "neptune")]
                neptune,
                #[cfg(feature = "aurora")]
                aurora,
                #[cfg(feature = "aurora")]
                rds,
                #[cfg(feature = "lambda")]
                lambda,
            }),
        })
    }
}

struct Inner {
    env: Env,
    regions: Vec<Region>,
    manual: Option<ManualClock>,
    services: Vec<Arc<dyn Service>>,
    #[cfg(feature = "dynamo")]
    dynamo: Arc<engines::dynamo::Engine>,
    #[cfg(feature = "s3")]
    s3: Arc<engines::s3::Engine>,
    #[cfg(feature = "neptune")]
    neptune: Arc<engines::neptune::Engine>,
    #[cfg(feature = "aurora")]
    aurora: Arc<engines::aurora::Engine>,
    #[cfg(feature = "aurora")]
    rds: Arc<engines::rds::Engine>,
    #[cfg(feature = "lambda")]
    lambda: Arc<engines::lambda::Engine>,
}

/// One in-process AWS: regions, an account, a clock, and every engine compiled in.
/// Cloning is cheap and shares everything.
#[derive(Clone)]
pub struct Cloud {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Cloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cloud")
            .field("account", &self.inner.env.account)
            .field("regions", &self.inner.regions)
            .field("services", &self.service_names())
            .finish()
    }
}

impl Cloud {
    /// A builder; `Cloud::builder().build()` is one region (`us-east-1`) on the system clock.
    pub fn builder() -> CloudBuilder {
        CloudBuilder::default()
    }

    /// The environment the engines were built from (account, clock, ids, meter).
    pub fn env(&self) -> &Env {
        &self.inner.env
    }

    /// The cloud's clock.
    pub fn clock(&self) -> &SharedClock {
        &self.inner.env.clock
    }

    /// The manual clock, when the cloud runs on one.
    pub fn manual_clock(&self) -> Option<&ManualClock> {
        self.inner.manual.as_ref()
    }

    /// The usage records every engine emits.
    pub fn meter(&self) -> &Meter {
        &self.inner.env.meter
    }

    /// The regions the cloud was built with; the first is the default.
    pub fn regions(&self) -> &[Region] {
        &self.inner.regions
    }

    /// The default region (for unsigned requests).
    pub fn default_region(&self) -> &Region {
        // `build` guarantees at least one region.
        &self.inner.regions[0]
    }

    /// A handle scoped to one region; engine glue adds per-engine accessors to it.
    pub fn region(&self, region: &Region) -> RegionHandle<'_> {
        RegionHandle {
            cloud: self,
            region: region.clone(),
        }
    }

    /// The wire services, in routing order.
    pub fn services(&self) -> &[Arc<dyn Service>] {
        &self.inner.services
    }

    /// The names of the services compiled in.
    pub fn service_names(&self) -> Vec<&'static str> {
        self.inner
            .services
            .iter()
            .map(|s| s.descriptor().name)
            .collect()
    }

    /// Empties every engine.
    pub fn reset(&self) {
        for s in &self.inner.services {
            s.reset();
        }
        self.inner.env.meter.clear();
    }

    /// The DynamoDB engine.
    #[cfg(feature = "dynamo")]
    pub fn dynamo(&self) -> &Arc<engines::dynamo::Engine> {
        &self.inner.dynamo
    }

    /// The S3 engine (objects, S3 Select, Glacier).
    #[cfg(feature = "s3")]
    pub fn s3(&self) -> &Arc<engines::s3::Engine> {
        &self.inner.s3
    }

    /// The Neptune engine.
    #[cfg(feature = "neptune")]
    pub fn neptune(&self) -> &Arc<engines::neptune::Engine> {
        &self.inner.neptune
    }

    /// The Aurora engine.
    #[cfg(feature = "aurora")]
    pub fn aurora(&self) -> &Arc<engines::aurora::Engine> {
        &self.inner.aurora
    }

    /// The RDS control plane: Aurora clusters on the replicated volume, Global Database,
    /// Serverless v2.
    #[cfg(feature = "aurora")]
    pub fn rds(&self) -> &Arc<engines::rds::Engine> {
        &self.inner.rds
    }

    /// The Lambda engine.
    #[cfg(feature = "lambda")]
    pub fn lambda(&self) -> &Arc<engines::lambda::Engine> {
        &self.inner.lambda
    }
}

/// A view of a [`Cloud`] scoped to one region.
#[derive(Debug, Clone)]
pub struct RegionHandle<'a> {
    /// The cloud.
    pub cloud: &'a Cloud,
    /// The region.
    pub region: Region,
}
