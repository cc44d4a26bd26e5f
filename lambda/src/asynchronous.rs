//! Asynchronous invocation (`InvocationType: Event`): the internal event queue.
//!
//! Each queued event is a task that runs the function, and on a function error retries after
//! 1 and then 2 minutes (up to `MaximumRetryAttempts`, default 2); throttles and capacity waits
//! back off from 1 second to 5 minutes without using up attempts; an event older than
//! `MaximumEventAgeInSeconds` (default 6 hours) is discarded. Every wait is a
//! [`nubis_core::Clock::sleep_until`], so a manual clock drives retries in tests. Outcomes go to
//! the OnSuccess/OnFailure destinations and the dead-letter queue through
//! [`crate::hooks::DestinationSink`]; Lambda-function destinations are invoked by the engine.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use nubis_core::Clock;
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::engine::LambdaRegion;
use crate::error::LambdaError;
use crate::hooks::{Delivery, DeliveryKind, DestinationSink};
use crate::invoke::{Target, rfc3339};

#[derive(Default)]
struct TrackerState {
    running: usize,
    sleeping: HashMap<u64, SystemTime>,
    next_id: u64,
}

/// Counts asynchronous work so [`crate::Lambda::settle`] knows when all of it is waiting on the
/// clock or done.
#[derive(Clone, Default)]
pub(crate) struct AsyncTracker {
    state: Arc<Mutex<TrackerState>>,
    notify: Arc<Notify>,
}

/// A unit of running asynchronous work; dropping it marks the work finished.
pub(crate) struct RunGuard {
    tracker: AsyncTracker,
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        self.tracker.state.lock().running -= 1;
        self.tracker.notify.notify_waiters();
    }
}

struct Sleeping {
    tracker: AsyncTracker,
    id: u64,
}

impl Drop for Sleeping {
    fn drop(&mut self) {
        let mut s = self.tracker.state.lock();
        s.sleeping.remove(&self.id);
        s.running += 1;
    }
}

impl AsyncTracker {
    pub(crate) fn begin(&self) -> RunGuard {
        self.state.lock().running += 1;
        RunGuard {
            tracker: self.clone(),
        }
    }

    /// Sleeps on the clock, counted as waiting rather than running. Cancel-safe: dropping the
    /// future mid-sleep restores the count.
    pub(crate) async fn sleep_until(&self, clock: &dyn Clock, deadline: SystemTime) {
        let id = {
            let mut s = self.state.lock();
            s.running -= 1;
            s.next_id += 1;
            let id = s.next_id;
            s.sleeping.insert(id, deadline);
            id
        };
        self.notify.notify_waiters();
        let _awake = Sleeping {
            tracker: self.clone(),
            id,
        };
        clock.sleep_until(deadline).await;
    }

    pub(crate) async fn settle(&self, clock: &dyn Clock) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let s = self.state.lock();
                let now = clock.now();
                if s.running == 0 && s.sleeping.values().all(|d| *d > now) {
                    return;
                }
            }
            notified.await;
        }
    }
}

/// Why an asynchronous event ended without success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Condition {
    RetriesExhausted,
    EventAgeExceeded,
}

impl LambdaRegion {
    /// Queues an event for asynchronous invocation.
    pub(crate) fn enqueue_async(
        &self,
        target: Target,
        payload: Bytes,
        event: Value,
        request_id: String,
    ) {
        let guard = self.inner().async_tracker.begin();
        let region = self.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(h) => {
                h.spawn(async move {
                    let _guard = guard;
                    region.run_event(target, payload, event, request_id).await;
                });
            }
            // Invoke is async, so a runtime is always there; without one the event cannot run and
            // is dead-lettered rather than lost silently.
            Err(_) => {
                drop(guard);
                let err = json!({ "errorMessage": "no Tokio runtime to run the event", "errorType": "ServiceException" });
                self.fail_event(
                    &target,
                    &event,
                    &request_id,
                    0,
                    Condition::RetriesExhausted,
                    Some(err),
                );
            }
        }
    }

    async fn run_event(&self, target: Target, payload: Bytes, event: Value, request_id: String) {
        let inner = self.inner();
        let clock = Arc::clone(&inner.env.clock);
        let qualifier = target
            .invoked_arn
            .strip_prefix(&*target.entry.arn)
            .and_then(|s| s.strip_prefix(':'))
            .unwrap_or("$LATEST")
            .to_owned();
        let cfg = target
            .entry
            .data
            .lock()
            .event_invoke
            .get(&qualifier)
            .cloned()
            .unwrap_or_default();
        let max_retries = cfg.maximum_retry_attempts.unwrap_or(2).clamp(0, 2) as u32;
        let max_age = Duration::from_secs(
            cfg.maximum_event_age_in_seconds
                .unwrap_or(21600)
                .clamp(60, 21600) as u64,
        );
        let enqueued = clock.now();
        let mut attempts = 0u32;
        let mut throttle_wait = Duration::from_secs(1);
        loop {
            let now = clock.now();
            if now.duration_since(enqueued).unwrap_or_default() >= max_age {
                self.fail_event(
                    &target,
                    &event,
                    &request_id,
                    attempts,
                    Condition::EventAgeExceeded,
                    None,
                );
                return;
            }
            match self
                .execute(
                    &target,
                    payload.clone(),
                    Some(event.clone()),
                    None,
                    request_id.clone(),
                    false,
                )
                .await
            {
                Err(LambdaError::TooManyRequests { .. }) => {
                    let deadline = (now + throttle_wait).min(enqueued + max_age);
                    throttle_wait = (throttle_wait * 2).min(Duration::from_secs(300));
                    inner.async_tracker.sleep_until(&*clock, deadline).await;
                }
                Err(_) => {
                    // The function is gone; nothing can run the event.
                    return;
                }
                Ok(r) => {
                    attempts += 1;
                    let response: Value = serde_json::from_slice(&r.payload).unwrap_or(Value::Null);
                    if !r.function_error {
                        self.succeed_event(&target, &cfg, &event, &request_id, attempts, response);
                        return;
                    }
                    if attempts > max_retries {
                        self.fail_event(
                            &target,
                            &event,
                            &request_id,
                            attempts,
                            Condition::RetriesExhausted,
                            Some(response),
                        );
                        return;
                    }
                    let wait = Duration::from_secs(60 * u64::from(attempts));
                    let deadline = clock.now() + wait;
                    if deadline.duration_since(enqueued).unwrap_or_default() >= max_age {
                        inner
                            .async_tracker
                            .sleep_until(&*clock, enqueued + max_age)
                            .await;
                        continue;
                    }
                    inner.async_tracker.sleep_until(&*clock, deadline).await;
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        target: &Target,
        event: &Value,
        request_id: &str,
        attempts: u32,
        condition: &str,
        response: Option<Value>,
        failed: bool,
    ) -> Value {
        let qualified = if target.invoked_arn == target.entry.arn {
            format!("{}:$LATEST", target.entry.arn)
        } else {
            String::from(&*target.invoked_arn)
        };
        let mut response_context =
            json!({ "statusCode": 200, "executedVersion": &*target.executed_version });
        if failed {
            response_context["functionError"] = json!("Unhandled");
        }
        let mut rec = json!({
            "version": "1.0",
            "timestamp": rfc3339(self.now()),
            "requestContext": {
                "requestId": request_id,
                "functionArn": qualified,
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "requestPayload": event,
            "responseContext": response_context,
        });
        if let Some(r) = response {
            rec["responsePayload"] = r;
        }
        rec
    }

    fn succeed_event(
        &self,
        target: &Target,
        cfg: &crate::config::EventInvokeConfig,
        event: &Value,
        request_id: &str,
        attempts: u32,
        response: Value,
    ) {
        if let Some(dest) = cfg
            .destination_config
            .as_ref()
            .and_then(|d| d.on_success.as_ref())
            .and_then(|d| d.destination.clone())
        {
            let rec = self.record(
                target,
                event,
                request_id,
                attempts,
                "Success",
                Some(response),
                false,
            );
            self.deliver(target, DeliveryKind::OnSuccess, &dest, rec, BTreeMap::new());
        }
    }

    fn fail_event(
        &self,
        target: &Target,
        event: &Value,
        request_id: &str,
        attempts: u32,
        condition: Condition,
        response: Option<Value>,
    ) {
        let qualifier = target
            .invoked_arn
            .strip_prefix(&*target.entry.arn)
            .and_then(|s| s.strip_prefix(':'))
            .unwrap_or("$LATEST");
        let cfg = target
            .entry
            .data
            .lock()
            .event_invoke
            .get(qualifier)
            .cloned()
            .unwrap_or_default();
        let cond = match condition {
            Condition::RetriesExhausted => "RetriesExhausted",
            Condition::EventAgeExceeded => "EventAgeExceeded",
        };
        if let Some(dest) = cfg
            .destination_config
            .as_ref()
            .and_then(|d| d.on_failure.as_ref())
            .and_then(|d| d.destination.clone())
        {
            let rec = self.record(
                target,
                event,
                request_id,
                attempts,
                cond,
                response.clone(),
                true,
            );
            self.deliver(target, DeliveryKind::OnFailure, &dest, rec, BTreeMap::new());
        }
        if let Some(dlq) = target
            .version
            .config
            .dead_letter_config
            .as_ref()
            .and_then(|d| d.target_arn.clone())
        {
            let message = response
                .as_ref()
                .and_then(|r| r.get("errorMessage"))
                .and_then(Value::as_str)
                .unwrap_or(cond)
                .to_owned();
            let attributes = BTreeMap::from([
                ("RequestID".to_owned(), request_id.to_owned()),
                ("ErrorCode".to_owned(), "200".to_owned()),
                ("ErrorMessage".to_owned(), message),
            ]);
            self.deliver(
                target,
                DeliveryKind::DeadLetter,
                &dlq,
                event.clone(),
                attributes,
            );
        }
    }

    fn deliver(
        &self,
        target: &Target,
        kind: DeliveryKind,
        arn: &str,
        body: Value,
        attributes: BTreeMap<String, String>,
    ) {
        // A Lambda function destination is this engine's own business: invoke it asynchronously.
        if arn.split(':').nth(2) == Some("lambda") && kind != DeliveryKind::DeadLetter {
            let payload = Bytes::from(body.to_string());
            match self.resolve_target(arn, None, true) {
                Ok(t) => {
                    let id = self.inner().env.ids.uuid();
                    self.enqueue_async(t, payload, body, id);
                }
                Err(e) => self.log_delivery_failure(target, arn, &e.to_string()),
            }
            return;
        }
        let sink: Arc<dyn DestinationSink> = match self.inner().hooks.read().destinations.clone() {
            Some(s) => s,
            None => Arc::clone(&self.inner().recorded) as Arc<dyn DestinationSink>,
        };
        if let Err(e) = sink.deliver(Delivery {
            kind,
            target_arn: arn.to_owned(),
            body,
            attributes,
        }) {
            self.log_delivery_failure(target, arn, &e);
        }
    }

    fn log_delivery_failure(&self, target: &Target, arn: &str, why: &str) {
        let line = format!(
            "Lambda was unable to deliver the asynchronous invocation record to {arn}: {why}"
        );
        self.state.logs.append(
            &target.entry.group,
            &Arc::from("async-delivery"),
            self.now(),
            [crate::logs::Line::Text(line)],
        );
    }
}
