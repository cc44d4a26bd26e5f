//! [`ClusterSession`]: a client connection to one instance of a cluster.
//!
//! Each `execute` runs on the instance's SQL engine, then ships what it wrote as one
//! mini-transaction and returns only once the VDL covers it. Guarantees:
//! * a statement whose MTR storage refused has no effect anywhere: on a multi-master page
//!   conflict its transaction is rolled back locally and on the volume (40001, retryable; in a
//!   transaction block the block is then aborted, 25P02 until ROLLBACK); on any other refusal the
//!   instance reopens from pages and the error is returned;
//! * a session whose instance crashed, restarted or changed role gets 57P01 and must reconnect;
//! * a reader refuses writes with 25006, as a PostgreSQL hot standby does.

use std::sync::Arc;

use parking_lot::Mutex;
use sqlparser::ast::Statement;

use crate::engine::{Database, QueryResult};
use crate::session::Session;
use crate::storage::{LogRecord, Lsn};
use crate::volume::{PageWrite, VolumeError, WriterMode};

use super::codec::{PageRecord, encode};
use super::error::{ClusterError, ClusterResult};
use super::instance::{InstanceState, Role, StreamMtr};
use super::pages::{PageKind, SEQUENCE_PAGE, kind_of};
use super::volume_storage::Link;
use super::{Cluster, Endpoint, not_found};

/// A connection to one instance of a cluster.
#[derive(Debug)]
pub struct ClusterSession {
    cluster: Cluster,
    instance: String,
    generation: u64,
    role: Role,
    session: Session,
    db: Arc<Database>,
    link: Arc<Mutex<Link>>,
    exec: Arc<super::exec_lock::ExecLock>,
    failed_block: bool,
    /// The cluster is multi-master (fixed for its life).
    multi: bool,
    pending: Option<Lsn>,
    answered_at: Option<Lsn>,
    /// The last (epoch, LSN) this session saw durable: a statement whose horizon is no newer
    /// (the usual case for reads while nothing is written) needs no check at all.
    confirmed: Option<(u64, Lsn)>,
}

impl Cluster {
    /// Opens a connection through an endpoint. A paused serverless cluster resumes first.
    pub fn connect(&self, endpoint: Endpoint) -> ClusterResult<ClusterSession> {
        self.resume_if_paused()?;
        let mut st = self.shared.lock();
        let available = |r: Role| -> Vec<String> {
            st.instances
                .values()
                .filter(|i| {
                    i.role == r && i.region.is_none() && i.state == InstanceState::Available
                })
                .map(|i| i.name.clone())
                .collect()
        };
        let name = match &endpoint {
            Endpoint::Cluster => available(Role::Writer).into_iter().next(),
            Endpoint::Reader => {
                let readers = available(Role::Reader);
                if readers.is_empty() {
                    available(Role::Writer).into_iter().next()
                } else {
                    let i = st.round_robin % readers.len();
                    st.round_robin += 1;
                    readers.into_iter().nth(i)
                }
            }
            Endpoint::Instance(n) => Some(n.clone()),
        };
        let Some(name) = name else {
            return Err(ClusterError::NotAccepting {
                instance: self.shared.name.clone(),
                state: "without an available writer".into(),
            });
        };
        let inst = st
            .instances
            .get(&name)
            .ok_or_else(|| not_found("DB instance", &name))?;
        if inst.state != InstanceState::Available {
            return Err(ClusterError::NotAccepting {
                instance: name,
                state: inst.state.as_str().into(),
            });
        }
        let session = inst.db.session();
        let s = ClusterSession {
            cluster: self.clone(),
            instance: name.clone(),
            generation: inst.generation,
            role: inst.role,
            session,
            db: inst.db.clone(),
            link: inst.link.clone(),
            exec: inst.exec.clone(),
            failed_block: false,
            multi: st.volume.config().mode == WriterMode::MultiMaster,
            pending: None,
            answered_at: None,
            confirmed: None,
        };
        drop(st);
        self.note_connection(1);
        Ok(s)
    }
}

impl Drop for ClusterSession {
    fn drop(&mut self) {
        self.cluster.note_connection(-1);
    }
}

fn command_name(stmt: &Statement) -> String {
    let text = stmt.to_string();
    let words: Vec<&str> = text.split_whitespace().take(2).collect();
    match words.as_slice() {
        [a, b] if ["CREATE", "DROP", "ALTER"].contains(&a.to_uppercase().as_str()) => {
            format!("{} {}", a.to_uppercase(), b.to_uppercase())
        }
        [a, ..] => a.to_uppercase(),
        [] => "statement".into(),
    }
}

fn is_read_only(stmt: &Statement) -> bool {
    matches!(
        stmt,
        Statement::Query(_)
            | Statement::Explain { .. }
            | Statement::ShowVariable { .. }
            | Statement::Set(_)
            | Statement::StartTransaction { .. }
            | Statement::Commit { .. }
            | Statement::Rollback { .. }
            | Statement::Savepoint { .. }
            | Statement::ReleaseSavepoint { .. }
    )
}

impl ClusterSession {
    /// The instance this session is connected to.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Whether it is connected to a writer.
    pub fn is_writer(&self) -> bool {
        self.role == Role::Writer
    }

    /// The underlying database (for prepared statements' metadata).
    pub fn database(&self) -> &Arc<Database> {
        &self.db
    }

    /// Whether a transaction block is open.
    pub fn in_transaction(&self) -> bool {
        self.failed_block || self.session.in_transaction()
    }

    /// The commit LSN still waiting for the VDL (only with [`super::Driver::External`]).
    pub fn pending_commit(&self) -> Option<Lsn> {
        let lsn = self.pending?;
        (!self.cluster.with_volume(|v| v.vdl() >= lsn)).then_some(lsn)
    }

    /// Lets `flag` interrupt this session's statements: a statement waiting for a row lock
    /// ends with 57014 when it is set (a PostgreSQL CancelRequest). A flag set while no
    /// statement runs is ignored, as PostgreSQL ignores a cancel that arrives between statements.
    pub fn set_interrupt(&mut self, flag: Arc<std::sync::atomic::AtomicBool>) {
        self.session.interrupt = Some(flag);
    }

    /// The LSN the last statement was answered at: everything it wrote, and every change of
    /// its instance it could have read, is at or below it (and durable, unless
    /// [`ClusterSession::pending_commit`] says otherwise). `None` before the instance shipped
    /// anything.
    pub fn durable_point(&self) -> Option<Lsn> {
        self.answered_at
    }

    fn check_alive(&self) -> ClusterResult<()> {
        let st = self.cluster.shared.core.lock();
        let reason = match st.instances.get(&self.instance) {
            None => "the instance was deleted",
            Some(i) if i.state == InstanceState::Failed => {
                "the instance crashed; reconnect to the cluster endpoint"
            }
            Some(i) if i.generation != self.generation || i.role != self.role => {
                "the instance restarted (failover); reconnect to the cluster endpoint"
            }
            Some(_) => return Ok(()),
        };
        Err(ClusterError::ConnectionTerminated {
            reason: reason.into(),
        })
    }

    /// Runs SQL (one or more statements); a writer's changes are durable when this returns.
    pub fn execute(&mut self, sql: &str) -> ClusterResult<Vec<QueryResult>> {
        self.run(sql, |s| s.execute(sql))
    }

    /// Runs one statement with `$n` parameters.
    pub fn execute_with(
        &mut self,
        sql: &str,
        params: &[crate::Value],
    ) -> ClusterResult<QueryResult> {
        self.run(sql, |s| s.execute_with(sql, params).map(|r| vec![r]))
            .map(|mut v| v.remove(0))
    }

    fn run(
        &mut self,
        sql: &str,
        f: impl FnOnce(&mut Session) -> crate::Result<Vec<QueryResult>>,
    ) -> ClusterResult<Vec<QueryResult>> {
        self.check_alive()?;
        if let Some(flag) = &self.session.interrupt {
            flag.store(false, std::sync::atomic::Ordering::Relaxed);
        }
        let exec = self.exec.clone();
        let serial = exec.acquire();
        self.cluster.tick_for(&self.instance, self.multi);
        self.check_alive()?;
        self.cluster.admit(&self.instance)?;
        let stmts = crate::session::parse(sql)?;
        if self.failed_block {
            if stmts.len() == 1
                && matches!(
                    stmts[0],
                    Statement::Commit { .. } | Statement::Rollback { .. }
                )
            {
                self.failed_block = false;
                return Ok(vec![QueryResult::command("ROLLBACK".into(), 0)]);
            }
            return Err(crate::AuroraError::in_failed_transaction().into());
        }
        if self.role == Role::Reader
            && let Some(w) = stmts.iter().find(|s| !is_read_only(s))
        {
            return Err(ClusterError::ReadOnly {
                command: command_name(w),
            });
        }
        // On a single-master writer a row-lock wait gives the execution lock up (see
        // `exec_lock`); the statement takes it back before it ships.
        let result = if self.role == Role::Writer && !self.multi_master() {
            crate::lock_wait_hook::with_hook(serial.release_for_wait(), || f(&mut self.session))
        } else {
            f(&mut self.session)
        };
        serial.reacquire();
        let flushed = if self.role == Role::Writer {
            self.flush()
        } else {
            Ok(())
        };
        // Everything this statement could have seen was shipped by now (statements change the
        // instance only under the execution lock, and ship before releasing it).
        let horizon = self.link.lock().shipped;
        drop(serial);
        self.answered_at = horizon.map(|(_, lsn)| lsn);
        // Group commit: wait for durability without the instance, so other sessions run.
        let durable = match horizon {
            Some(h) if Some(h) == self.confirmed => Ok(()),
            Some((epoch, lsn)) => {
                let r = self.await_durable(epoch, lsn);
                if r.is_ok() && self.pending.is_none() {
                    self.confirmed = Some((epoch, lsn));
                }
                r
            }
            None => Ok(()),
        };
        let work = result
            .as_ref()
            .map(|rs| {
                rs.iter()
                    .map(|r| r.rows_affected + r.rows.len() as u64)
                    .sum::<u64>()
            })
            .unwrap_or(0);
        self.cluster.charge(&self.instance, 1 + work);
        flushed?;
        durable?;
        Ok(result?)
    }

    /// Waits (as commit leader or follower) until the instance's MTR `lsn` of `epoch` is on four
    /// of six copies. A session whose instance crashed or was replaced meanwhile gets 57P01: its
    /// commit's fate is then unknown to it, as with a PostgreSQL server crash during COMMIT.
    fn await_durable(&mut self, epoch: u64, lsn: Lsn) -> ClusterResult<()> {
        let (name, generation, role) = (self.instance.clone(), self.generation, self.role);
        let cluster = self.cluster.clone();
        let ok = self.cluster.wait_for(
            || cluster.published_durable(epoch, lsn),
            |st| {
                let durable = st.volume.epoch() == epoch && st.volume.vdl() >= lsn;
                let alive = st.instances.get(&name).is_some_and(|i| {
                    i.state != InstanceState::Failed && i.generation == generation && i.role == role
                });
                durable || !alive
            },
        );
        if !ok {
            // The driver cannot wait (the clock's owner advances it): the commit stays pending.
            self.pending = Some(lsn);
            return Ok(());
        }
        self.pending = None;
        if self.cluster.published_durable(epoch, lsn)
            || self
                .cluster
                .with_volume(|v| v.epoch() == epoch && v.vdl() >= lsn)
        {
            return Ok(());
        }
        self.check_alive()?;
        Err(ClusterError::ConnectionTerminated {
            reason: "the instance lost its volume before the commit was durable".into(),
        })
    }

    /// Sequence records for values handed out past what is logged (32 ahead, as PostgreSQL).
    fn sequence_records(&self) -> Vec<(u64, PageRecord)> {
        let st = self.db.state.lock();
        let mut link = self.link.lock();
        let mut out = Vec::new();
        for (id, s) in st.sequences.borrow().iter() {
            if !s.called {
                continue;
            }
            let logged = link.logged_sequences.get(id).copied();
            let covered = logged.is_some_and(|l| {
                if s.increment >= 0 {
                    s.last <= l
                } else {
                    s.last >= l
                }
            });
            if covered {
                continue;
            }
            let ahead = s
                .last
                .saturating_add(s.increment.saturating_mul(32))
                .clamp(s.min, s.max);
            link.logged_sequences.insert(*id, ahead);
            out.push((
                SEQUENCE_PAGE,
                PageRecord::Sequence {
                    id: *id,
                    last: ahead,
                    called: true,
                },
            ));
        }
        out
    }

    /// Ships what the statement staged as one MTR (the caller waits for the VDL).
    fn flush(&mut self) -> ClusterResult<()> {
        let mut records = std::mem::take(&mut self.link.lock().staged);
        records.extend(self.sequence_records());
        if records.is_empty() {
            return Ok(());
        }
        match self.submit(&records, true) {
            Ok(_) => {
                self.link.lock().forget_finished();
                Ok(())
            }
            Err(VolumeError::WriteConflict {
                page,
                expected,
                actual,
            }) if self.multi_master() => {
                let conflict = VolumeError::WriteConflict {
                    page,
                    expected,
                    actual,
                };
                self.roll_back_conflict(&records)?;
                Err(conflict.into())
            }
            Err(e) => {
                // The instance crashed or was replaced while the statement ran: the connection
                // is over (nothing of the statement reached storage).
                self.check_alive()?;
                // Nothing reached storage but the local state has the statement: reopen it.
                self.link.lock().staged.clear();
                let _ = self.cluster.reopen(&self.instance);
                Err(e.into())
            }
        }
    }

    fn multi_master(&self) -> bool {
        self.multi
    }

    fn submit(&self, records: &[(u64, PageRecord)], based: bool) -> Result<Lsn, VolumeError> {
        let mut st = self.cluster.shared.lock();
        let multi = st.volume.config().mode == WriterMode::MultiMaster;
        let inst = st
            .instances
            .get(&self.instance)
            .ok_or(VolumeError::ReadOnly {
                operation: "a write on a deleted instance",
            })?;
        let vol_id = inst.vol_id;
        let writes: Vec<PageWrite> = records
            .iter()
            .map(|(page, rec)| {
                let w = PageWrite::new(*page, encode(rec));
                let shared_page = !matches!(kind_of(*page), PageKind::Clog | PageKind::Unused);
                if multi && based && shared_page {
                    w.based_on(inst.page_lsns.get(page).copied().unwrap_or(0))
                } else {
                    w
                }
            })
            .collect();
        let receipt = st.volume.enqueue(vol_id, &writes)?;
        self.link.lock().shipped = Some((receipt.epoch, receipt.commit_lsn));
        if let Some(inst) = st.instances.get_mut(&self.instance) {
            for (i, (page, _)) in records.iter().enumerate() {
                inst.page_lsns.insert(*page, receipt.first_lsn + i as u64);
            }
        }
        st.stream.push_back(StreamMtr {
            writer: self.instance.clone(),
            first_lsn: receipt.first_lsn,
            commit_lsn: receipt.commit_lsn,
            records: Arc::new(records.to_vec()),
            at: self.cluster.now(),
        });
        Ok(receipt.commit_lsn)
    }

    /// A multi-master page conflict: the statement's records never reached storage. Roll its
    /// transaction back here and on the volume (earlier statements of it did reach storage).
    fn roll_back_conflict(&mut self, failed: &[(u64, PageRecord)]) -> ClusterResult<()> {
        if failed
            .iter()
            .any(|(_, r)| matches!(r, PageRecord::Ddl { .. }))
        {
            // The local catalog already changed: only reopening from pages undoes that.
            self.link.lock().staged.clear();
            self.cluster.reopen(&self.instance)?;
            return Ok(());
        }
        if self.session.in_transaction() {
            let _ = self.session.execute("ROLLBACK");
            self.failed_block = true;
        } else {
            let tops: Vec<u64> = self.link.lock().finished.clone();
            for top in tops {
                let xids = self.link.lock().xids_of(top);
                self.db
                    .state
                    .lock()
                    .storage
                    .append(LogRecord::Abort { xids });
            }
        }
        let cleanup = std::mem::take(&mut self.link.lock().staged);
        if cleanup.is_empty() {
            return Ok(());
        }
        match self.submit(&cleanup, false) {
            Ok(_) => {
                self.link.lock().forget_finished();
                Ok(())
            }
            Err(e) => {
                let _ = self.cluster.reopen(&self.instance);
                Err(e.into())
            }
        }
    }
}
