//! Scheduled rules, as EventBridge runs them for Lambda targets: a rule has a schedule
//! expression (`rate(...)` or `cron(...)`, see [`crate::schedule`]) and a target function, and on
//! each firing the function is invoked asynchronously with the rule's `Input` or, without one,
//! EventBridge's `Scheduled Event` record. SAM `Schedule` events deploy as rules.
//!
//! Guarantees: every wait is a `Clock::sleep_until` (a manual clock drives rules in tests, and
//! [`crate::Lambda::settle`] sees them); a rule fires once per scheduled instant, in order, even
//! when the clock jumps past several (each missed instant fires, as EventBridge catches up);
//! replacing or deleting a rule stops its old schedule before the next firing.
//!
//! Not modelled: event buses, event patterns and non-Lambda targets (the engine knows no other
//! service); EventBridge's up-to-a-minute delivery jitter (a firing happens at its instant).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{Value, json};

use crate::engine::LambdaRegion;
use crate::error::{LambdaError, Result};
use crate::invoke::{InvocationType, InvokeRequest};
use crate::schedule::ScheduleExpression;

/// A `PutRule` + `PutTargets` pair for one Lambda target.
#[derive(Debug, Clone, PartialEq)]
pub struct PutRule {
    /// 1–64 characters of `[.\-_A-Za-z0-9]`.
    pub name: String,
    /// `rate(...)` or `cron(...)`.
    pub schedule_expression: String,
    /// `ENABLED` (true) or `DISABLED`.
    pub enabled: bool,
    /// The function (name or ARN, optionally qualified).
    pub target: String,
    /// The event the function gets; `None` sends the `Scheduled Event` record.
    pub input: Option<Value>,
}

impl PutRule {
    /// An enabled rule invoking `target` on `schedule_expression`.
    pub fn new(name: &str, schedule_expression: &str, target: &str) -> Self {
        PutRule {
            name: name.into(),
            schedule_expression: schedule_expression.into(),
            enabled: true,
            target: target.into(),
            input: None,
        }
    }
}

/// A rule as described.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleDescription {
    /// The name.
    pub name: String,
    /// `arn:aws:events:<region>:<account>:rule/<name>`.
    pub arn: String,
    /// The expression as given.
    pub schedule_expression: String,
    /// `ENABLED` or `DISABLED`.
    pub state: String,
    /// The target function.
    pub target: String,
    /// The next firing, if any (and if enabled).
    pub next_fire: Option<SystemTime>,
}

pub(crate) struct RuleState {
    request: PutRule,
    expression: ScheduleExpression,
    created: SystemTime,
    /// Bumped on every PutRule, so an older schedule task stops.
    generation: u64,
    next_fire: Option<SystemTime>,
}

/// The rules of one region.
#[derive(Default)]
pub(crate) struct Rules {
    rules: parking_lot::Mutex<BTreeMap<String, RuleState>>,
    generation: std::sync::atomic::AtomicU64,
}

impl Rules {
    pub(crate) fn clear(&self) {
        self.rules.lock().clear();
    }
}

fn validate_rule_name(name: &str) -> Result<()> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if ok {
        Ok(())
    } else {
        Err(LambdaError::validation(
            name,
            "name",
            if name.len() > 64 {
                "Member must have length less than or equal to 64"
            } else {
                "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"
            },
        ))
    }
}

fn not_found(name: &str) -> LambdaError {
    LambdaError::ResourceNotFound(format!("Rule {name} does not exist on EventBus default."))
}

/// An instant as EventBridge writes `time` (whole seconds, `Z`).
fn event_time(t: SystemTime) -> String {
    let s = nubis_core::clock::to_rfc3339(t);
    format!("{}Z", s.get(..19).unwrap_or(&s))
}

impl LambdaRegion {
    /// The ARN of rule `name`.
    pub fn rule_arn(&self, name: &str) -> String {
        format!(
            "arn:{}:events:{}:{}:rule/{name}",
            self.state.region.partition().as_str(),
            self.state.region.as_str(),
            self.inner().env.account.as_str()
        )
    }

    /// Creates or replaces a scheduled rule and starts its schedule; returns the rule's ARN.
    pub fn put_rule(&self, req: PutRule) -> Result<String> {
        validate_rule_name(&req.name)?;
        let expression = ScheduleExpression::parse(&req.schedule_expression)
            .map_err(|e| LambdaError::Validation(e.to_string()))?;
        let now = self.now();
        let inner = self.inner();
        let generation = self
            .state
            .rules
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let next_fire = req
            .enabled
            .then(|| expression.next_after(now, now))
            .flatten();
        let name = req.name.clone();
        let enabled = req.enabled;
        self.state.rules.rules.lock().insert(
            name.clone(),
            RuleState {
                request: req,
                expression,
                created: now,
                generation,
                next_fire,
            },
        );
        if enabled && let Ok(handle) = tokio::runtime::Handle::try_current() {
            // The guard is taken now, so `Lambda::settle` sees the rule before its task runs.
            let guard = inner.async_tracker.begin();
            let region = self.clone();
            let rule = name.clone();
            handle.spawn(async move {
                let _guard = guard;
                region.run_rule(rule, generation).await;
            });
        }
        Ok(self.rule_arn(&name))
    }

    /// DescribeRule.
    pub fn describe_rule(&self, name: &str) -> Result<RuleDescription> {
        let rules = self.state.rules.rules.lock();
        let r = rules.get(name).ok_or_else(|| not_found(name))?;
        Ok(self.describe(r))
    }

    /// ListRules (by name).
    pub fn list_rules(&self) -> Vec<RuleDescription> {
        let rules = self.state.rules.rules.lock();
        rules.values().map(|r| self.describe(r)).collect()
    }

    /// DeleteRule: the schedule stops before its next firing.
    pub fn delete_rule(&self, name: &str) -> Result<()> {
        self.state
            .rules
            .rules
            .lock()
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| not_found(name))
    }

    fn describe(&self, r: &RuleState) -> RuleDescription {
        RuleDescription {
            name: r.request.name.clone(),
            arn: self.rule_arn(&r.request.name),
            schedule_expression: r.request.schedule_expression.clone(),
            state: if r.request.enabled {
                "ENABLED"
            } else {
                "DISABLED"
            }
            .into(),
            target: r.request.target.clone(),
            next_fire: r.next_fire,
        }
    }

    async fn run_rule(&self, name: String, generation: u64) {
        let tracker = self.inner().async_tracker.clone();
        let clock = Arc::clone(&self.inner().env.clock);
        loop {
            let due = {
                let rules = self.state.rules.rules.lock();
                match rules.get(&name) {
                    Some(r) if r.generation == generation => r.next_fire,
                    _ => None,
                }
            };
            let Some(due) = due else { return };
            tracker.sleep_until(&*clock, due).await;
            let fire = {
                let mut rules = self.state.rules.rules.lock();
                let Some(r) = rules.get_mut(&name).filter(|r| r.generation == generation) else {
                    return;
                };
                r.next_fire = r.expression.next_after(r.created, due);
                (r.request.target.clone(), r.request.input.clone())
            };
            let (target, input) = fire;
            let event = input.unwrap_or_else(|| {
                json!({
                    "version": "0",
                    "id": crate::invoke::uuid(&self.inner().env.ids),
                    "detail-type": "Scheduled Event",
                    "source": "aws.events",
                    "account": self.inner().env.account.as_str(),
                    "time": event_time(due),
                    "region": self.state.region.as_str(),
                    "resources": [self.rule_arn(&name)],
                    "detail": {},
                })
            });
            let req = InvokeRequest::json(&target, &event).invocation_type(InvocationType::Event);
            // EventBridge keeps firing whatever one invocation answers (a missing function or a
            // throttle is the target's problem, retried by the async queue where it applies).
            let _ = self.invoke(req).await;
        }
    }
}
