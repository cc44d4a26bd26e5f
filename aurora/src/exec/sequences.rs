//! Sequence functions as a running statement calls them: `nextval`, `currval`, `setval`,
//! `lastval`, on the engine's sequence counters (which change outside transactions, as in
//! PostgreSQL). Guarantee: `nextval` past a bound fails with 2200H unless the sequence cycles.

use super::ExecCtx;
use crate::error::{AuroraError, Result};
use crate::value::Value;

impl ExecCtx<'_> {
    /// `nextval`, `currval`, `setval`, `lastval`.
    pub fn sequence_call(&self, name: &str, args: &[Value]) -> Result<Value> {
        let mut seqs = self.sequences.borrow_mut();
        let seq_name = args.first().map(crate::cast::text_of).unwrap_or_default();
        let (schema, rel) = match seq_name.split_once('.') {
            Some((s, n)) => (
                Some(s.trim_matches('"').to_string()),
                n.trim_matches('"').to_string(),
            ),
            None => (None, seq_name.trim_matches('"').to_string()),
        };
        let id = if name == "lastval" {
            seqs.iter()
                .filter(|(_, s)| s.called)
                .map(|(id, _)| *id)
                .next_back()
        } else {
            match self.catalog.lookup(&schema, &rel) {
                Some(crate::catalog::Relation::Sequence(id)) => Some(id),
                _ => None,
            }
        };
        let seq = id
            .and_then(|id| seqs.get_mut(&id))
            .ok_or_else(|| AuroraError::UndefinedTable { name: rel.clone() })?;
        match name {
            "nextval" => {
                let next = if seq.called {
                    seq.last.checked_add(seq.increment)
                } else {
                    Some(seq.last)
                };
                let next = match next {
                    Some(n) if n >= seq.min && n <= seq.max => n,
                    _ if seq.cycle => {
                        if seq.increment > 0 {
                            seq.min
                        } else {
                            seq.max
                        }
                    }
                    _ => {
                        let which = if seq.increment > 0 {
                            "maximum"
                        } else {
                            "minimum"
                        };
                        let bound = if seq.increment > 0 { seq.max } else { seq.min };
                        return Err(AuroraError::sql(
                            "2200H",
                            format!(
                                "nextval: reached {which} value of sequence \"{}\" ({bound})",
                                seq.name
                            ),
                        ));
                    }
                };
                seq.last = next;
                seq.called = true;
                Ok(Value::Int8(next))
            }
            "setval" => {
                let v = args.get(1).and_then(Value::as_i64).unwrap_or(0);
                if v < seq.min || v > seq.max {
                    return Err(AuroraError::sql(
                        "22003",
                        format!(
                            "setval: value {v} is out of bounds for sequence \"{}\" ({}..{})",
                            seq.name, seq.min, seq.max
                        ),
                    ));
                }
                seq.last = v;
                seq.called = !matches!(args.get(2), Some(Value::Bool(false)));
                Ok(Value::Int8(v))
            }
            _ => {
                if !seq.called {
                    return Err(AuroraError::sql(
                        "55000",
                        format!(
                            "currval of sequence \"{}\" is not yet defined in this session",
                            seq.name
                        ),
                    ));
                }
                Ok(Value::Int8(seq.last))
            }
        }
    }
}
