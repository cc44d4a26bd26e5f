//! [`Env`]: what every engine is built with — account, clock, ids, meter.

use crate::{AccountId, IdGen, Meter, SharedClock, SystemClock};

/// The environment an engine runs in. Cloning shares the clock, the id sequence and the meter.
#[derive(Debug, Clone)]
pub struct Env {
    /// The account that owns every resource the engine creates.
    pub account: AccountId,
    /// The clock every time-dependent behaviour reads.
    pub clock: SharedClock,
    /// The id generator (fork it per engine with [`IdGen::fork`]).
    pub ids: IdGen,
    /// Where usage records go.
    pub meter: Meter,
}

impl Env {
    /// An environment on the given clock, account [`AccountId::LOCAL`], seed 0.
    pub fn with_clock(clock: SharedClock) -> Self {
        Env {
            account: AccountId::LOCAL,
            clock,
            ids: IdGen::new(0),
            meter: Meter::new(),
        }
    }

    /// The same environment with an id generator forked for `engine`.
    pub fn for_engine(&self, engine: &str) -> Self {
        Env {
            ids: self.ids.fork(engine),
            ..self.clone()
        }
    }
}

impl Default for Env {
    /// The system clock, account [`AccountId::LOCAL`], seed 0.
    fn default() -> Self {
        Env::with_clock(SystemClock::shared())
    }
}
