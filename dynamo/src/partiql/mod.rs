//! PartiQL for DynamoDB: ExecuteStatement, BatchExecuteStatement and ExecuteTransaction.
//!
//! Each statement is parsed ([`parse`]) and translated into the equivalent item operation — a
//! SELECT with an equality on the partition key becomes a Query, any other SELECT a Scan;
//! INSERT a PutItem that fails with `DuplicateItemException` when the key exists; UPDATE and
//! DELETE an UpdateItem/DeleteItem on the key the WHERE clause names, the rest of the WHERE
//! clause becoming the condition. Translation goes through expression strings with generated
//! placeholders, so PartiQL gets exactly the validation, limits and semantics of the
//! expression API.

pub mod lex;
pub mod parse;

use crate::engine::RegionDb;
use crate::error::{Error, Result};
use crate::expr::{Action, CmpOp, Cond, Name, Operand, Path, PathElem, SetValue, Update};
use crate::key::Schema;
use crate::model::{Names, Values};
use crate::model_data::*;
use crate::value::{AttributeValue, Item};
use parse::Statement;

/// Replaces names and literals in expression trees by generated placeholders.
#[derive(Default)]
struct Subst {
    names: Names,
    values: Values,
}

impl Subst {
    fn name(&mut self, n: &mut Name) {
        if let Name::Plain(s) = n {
            let key = format!("#n{}", self.names.len());
            self.names.insert(key.clone(), std::mem::take(s));
            *n = Name::Placeholder(key);
        }
    }

    fn path(&mut self, p: &mut Path) {
        for e in &mut p.0 {
            if let PathElem::Attr(n) = e {
                self.name(n);
            }
        }
    }

    fn operand(&mut self, o: &mut Operand) {
        match o {
            Operand::Path(p) => self.path(p),
            Operand::Literal(v) => {
                let key = format!(":v{}", self.values.len());
                self.values.insert(key.clone(), v.clone());
                *o = Operand::Value(key);
            }
            Operand::Call(_, args) => args.iter_mut().for_each(|a| self.operand(a)),
            Operand::Value(_) => {}
        }
    }

    fn cond(&mut self, c: &mut Cond) {
        match c {
            Cond::Cmp(_, a, b) => {
                self.operand(a);
                self.operand(b);
            }
            Cond::Between(a, b, d) => {
                self.operand(a);
                self.operand(b);
                self.operand(d);
            }
            Cond::In(a, l) => {
                self.operand(a);
                l.iter_mut().for_each(|x| self.operand(x));
            }
            Cond::Call(_, args) => args.iter_mut().for_each(|a| self.operand(a)),
            Cond::And(a, b) | Cond::Or(a, b) => {
                self.cond(a);
                self.cond(b);
            }
            Cond::Not(a) => self.cond(a),
        }
    }

    fn cond_str(&mut self, c: &Cond) -> String {
        let mut c = c.clone();
        self.cond(&mut c);
        c.to_string()
    }

    fn names(&self) -> Option<Names> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<Values> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

fn malformed(msg: &str) -> Error {
    if msg.starts_with("Number of parameters") {
        Error::validation(msg)
    } else {
        Error::validation(format!(
            "Statement wasn't well formed, can't be processed: {msg}"
        ))
    }
}

fn conjuncts(c: &Cond) -> Vec<&Cond> {
    match c {
        Cond::And(a, b) => {
            let mut v = conjuncts(a);
            v.extend(conjuncts(b));
            v
        }
        other => vec![other],
    }
}

fn equality<'c>(c: &'c Cond, attr: &str) -> Option<&'c AttributeValue> {
    let is_attr = |o: &Operand| matches!(o, Operand::Path(Path(p)) if p.len() == 1 && matches!(&p[0], PathElem::Attr(Name::Plain(n)) if n == attr));
    match c {
        Cond::Cmp(CmpOp::Eq, a, Operand::Literal(v)) if is_attr(a) => Some(v),
        Cond::Cmp(CmpOp::Eq, Operand::Literal(v), b) if is_attr(b) => Some(v),
        _ => None,
    }
}

/// Splits a WHERE clause into the full primary key and the remaining condition.
fn key_and_rest(cond: Option<&Cond>, schema: &Schema) -> Result<(Item, Option<Cond>)> {
    let parts = cond.map(conjuncts).unwrap_or_default();
    let mut key = Item::new();
    let mut used = Vec::new();
    for name in schema.names() {
        let found = parts
            .iter()
            .enumerate()
            .find_map(|(i, c)| equality(c, name).map(|v| (i, v)));
        match found {
            Some((i, v)) => {
                key.insert(name.to_owned(), v.clone());
                used.push(i);
            }
            None => {
                return Err(Error::validation(
                    "Where clause does not contain a mandatory equality on all key attributes",
                ));
            }
        }
    }
    let rest = parts
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !used.contains(i))
        .map(|(_, c)| c.clone())
        .reduce(|a, b| Cond::And(Box::new(a), Box::new(b)));
    Ok((key, rest))
}

fn and(a: Cond, b: Option<Cond>) -> Cond {
    match b {
        Some(b) => Cond::And(Box::new(a), Box::new(b)),
        None => a,
    }
}

fn exists(attr: &str) -> Cond {
    Cond::Call(
        "attribute_exists".into(),
        vec![Operand::Path(Path(vec![PathElem::Attr(Name::Plain(
            attr.to_owned(),
        ))]))],
    )
}

fn not_exists(attr: &str) -> Cond {
    Cond::Not(Box::new(exists(attr)))
}

impl RegionDb {
    fn schema_of(&self, table: &str, index: Option<&str>) -> Result<Schema> {
        let t = self.table(table)?;
        let st = t.state.read();
        match index {
            None => Ok(st.def.schema.clone()),
            Some(ix) => st
                .indexes
                .iter()
                .find(|i| i.def.name == ix)
                .map(|i| i.def.schema.clone())
                .ok_or_else(|| {
                    Error::validation(format!("The table does not have the specified index: {ix}"))
                }),
        }
    }

    fn run(
        &self,
        st: Statement,
        consistent: Option<bool>,
        limit: Option<i64>,
        next: Option<&str>,
    ) -> Result<ExecuteStatementOutput> {
        match st {
            Statement::Select {
                table,
                index,
                projection,
                cond,
            } => {
                let schema = self.schema_of(&table, index.as_deref())?;
                let mut sub = Subst::default();
                let projection_expression = projection.map(|ps| {
                    ps.into_iter()
                        .map(|mut p| {
                            sub.path(&mut p);
                            p.to_string()
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                });
                let start: Option<Item> = next
                    .map(|t| {
                        nubis_core::page::decode("ExecuteStatement", t)
                            .map_err(|_| Error::validation("Invalid NextToken"))
                    })
                    .transpose()?;
                let hash_eq = cond.as_ref().and_then(|c| {
                    conjuncts(c)
                        .into_iter()
                        .find_map(|p| equality(p, &schema.hash.name))
                        .cloned()
                });
                let out = match hash_eq {
                    Some(v) => {
                        let kc = Cond::Cmp(
                            CmpOp::Eq,
                            Operand::Path(Path(vec![PathElem::Attr(Name::Plain(
                                schema.hash.name.clone(),
                            ))])),
                            Operand::Literal(v),
                        );
                        let key_condition_expression = Some(sub.cond_str(&kc));
                        let filter_expression = cond.as_ref().map(|c| sub.cond_str(c));
                        self.query(QueryInput {
                            table_name: Some(table),
                            index_name: index,
                            key_condition_expression,
                            filter_expression,
                            projection_expression,
                            expression_attribute_names: sub.names(),
                            expression_attribute_values: sub.values(),
                            consistent_read: consistent,
                            limit,
                            exclusive_start_key: start,
                            ..Default::default()
                        })?
                    }
                    None => {
                        let filter_expression = cond.as_ref().map(|c| sub.cond_str(c));
                        self.scan(ScanInput {
                            table_name: Some(table),
                            index_name: index,
                            filter_expression,
                            projection_expression,
                            expression_attribute_names: sub.names(),
                            expression_attribute_values: sub.values(),
                            consistent_read: consistent,
                            limit,
                            exclusive_start_key: start,
                            ..Default::default()
                        })?
                    }
                };
                Ok(ExecuteStatementOutput {
                    items: out.items,
                    next_token: out
                        .last_evaluated_key
                        .as_ref()
                        .map(|k| nubis_core::page::encode("ExecuteStatement", k)),
                    last_evaluated_key: out.last_evaluated_key,
                    consumed_capacity: None,
                })
            }
            write => {
                self.write_input(write)?.run(self)?;
                Ok(ExecuteStatementOutput {
                    items: Some(Vec::new()),
                    ..Default::default()
                })
            }
        }
    }

    fn write_input(&self, st: Statement) -> Result<Write> {
        match st {
            Statement::Insert { table, item } => {
                let schema = self.schema_of(&table, None)?;
                let mut sub = Subst::default();
                let cond = sub.cond_str(&not_exists(&schema.hash.name));
                Ok(Write::Put(TransactAction {
                    table_name: Some(table),
                    item: Some(item),
                    condition_expression: Some(cond),
                    expression_attribute_names: sub.names(),
                    expression_attribute_values: sub.values(),
                    ..Default::default()
                }))
            }
            Statement::Update {
                table,
                actions,
                cond,
            } => {
                let schema = self.schema_of(&table, None)?;
                let (key, rest) = key_and_rest(cond.as_ref(), &schema)?;
                let mut sub = Subst::default();
                let mut update = Update {
                    actions,
                    repeated_clause: None,
                };
                for a in &mut update.actions {
                    match a {
                        Action::Set(p, v) => {
                            sub.path(p);
                            match v {
                                SetValue::Operand(x) => sub.operand(x),
                                SetValue::Plus(x, y) | SetValue::Minus(x, y) => {
                                    sub.operand(x);
                                    sub.operand(y);
                                }
                            }
                        }
                        Action::Remove(p) => sub.path(p),
                        Action::Add(p, x) | Action::Delete(p, x) => {
                            sub.path(p);
                            sub.operand(x);
                        }
                    }
                }
                let cond = sub.cond_str(&and(exists(&schema.hash.name), rest));
                Ok(Write::Update(TransactAction {
                    table_name: Some(table),
                    key: Some(key),
                    update_expression: Some(update.to_string()),
                    condition_expression: Some(cond),
                    expression_attribute_names: sub.names(),
                    expression_attribute_values: sub.values(),
                    ..Default::default()
                }))
            }
            Statement::Delete { table, cond } => {
                let schema = self.schema_of(&table, None)?;
                let (key, rest) = key_and_rest(cond.as_ref(), &schema)?;
                let mut sub = Subst::default();
                let condition_expression = rest.as_ref().map(|c| sub.cond_str(c));
                Ok(Write::Delete(TransactAction {
                    table_name: Some(table),
                    key: Some(key),
                    condition_expression,
                    expression_attribute_names: sub.names(),
                    expression_attribute_values: sub.values(),
                    ..Default::default()
                }))
            }
            Statement::Select { .. } => {
                Err(Error::validation("A read cannot be executed as a write"))
            }
        }
    }

    /// ExecuteStatement: one statement of 1 to 8,192 characters.
    pub fn execute_statement(
        &self,
        input: ExecuteStatementInput,
    ) -> Result<ExecuteStatementOutput> {
        let stmt = input.statement.as_deref().ok_or_else(|| {
            Error::validation("1 validation error detected: Value null at 'statement' failed to satisfy constraint: Member must not be null")
        })?;
        check_statement_length(stmt, "statement")?;
        let st = parse::parse(stmt, input.parameters.as_deref().unwrap_or_default())
            .map_err(|m| malformed(&m))?;
        self.run(
            st,
            input.consistent_read,
            input.limit,
            input.next_token.as_deref(),
        )
    }

    /// BatchExecuteStatement: up to 25 statements, each on its own; reads must name a full key.
    pub fn batch_execute_statement(
        &self,
        input: BatchExecuteStatementInput,
    ) -> Result<BatchExecuteStatementOutput> {
        let stmts = input.statements.unwrap_or_default();
        if stmts.is_empty() || stmts.len() > 25 {
            return Err(Error::validation(format!(
                "1 validation error detected: Value at 'statements' failed to satisfy constraint: Member must have length {} 25",
                if stmts.is_empty() {
                    "greater than or equal to 1 and less than or equal to"
                } else {
                    "less than or equal to"
                }
            )));
        }
        for (i, s) in stmts.iter().enumerate() {
            let text = s.statement.as_deref().unwrap_or_default();
            check_statement_length(text, &format!("statements.{}.member.statement", i + 1))?;
        }
        let mut responses = Vec::with_capacity(stmts.len());
        for s in stmts {
            let parsed = parse::parse(
                s.statement.as_deref().unwrap_or_default(),
                s.parameters.as_deref().unwrap_or_default(),
            );
            let table = match &parsed {
                Ok(
                    Statement::Select { table, .. }
                    | Statement::Insert { table, .. }
                    | Statement::Update { table, .. }
                    | Statement::Delete { table, .. },
                ) => Some(table.clone()),
                Err(_) => None,
            };
            let result = parsed.map_err(|m| malformed(&m)).and_then(|st| match st {
                Statement::Select {
                    table,
                    index: None,
                    projection,
                    cond,
                } => {
                    let schema = self.schema_of(&table, None)?;
                    let (key, rest) = key_and_rest(cond.as_ref(), &schema)?;
                    if rest.is_some() {
                        return Err(Error::validation(
                            "Batch reads must select one item by its full primary key",
                        ));
                    }
                    let mut sub = Subst::default();
                    let projection_expression = projection.map(|ps| {
                        ps.into_iter()
                            .map(|mut p| {
                                sub.path(&mut p);
                                p.to_string()
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    });
                    let out = self.get_item(GetItemInput {
                        table_name: Some(table),
                        key: Some(key),
                        projection_expression,
                        expression_attribute_names: sub.names(),
                        consistent_read: s.consistent_read,
                        ..Default::default()
                    })?;
                    Ok(out.item)
                }
                Statement::Select { .. } => {
                    Err(Error::validation("Batch reads cannot use an index"))
                }
                write => self.write_input(write)?.run(self).map(|_| None),
            });
            responses.push(match result {
                Ok(item) => BatchStatementResponse {
                    table_name: table,
                    item,
                    error: None,
                },
                Err(e) => BatchStatementResponse {
                    table_name: table,
                    item: None,
                    error: Some(statement_error(&e)),
                },
            });
        }
        Ok(BatchExecuteStatementOutput {
            responses,
            consumed_capacity: None,
        })
    }

    /// ExecuteTransaction: all reads (a TransactGetItems) or all writes (a TransactWriteItems).
    pub fn execute_transaction(
        &self,
        input: ExecuteTransactionInput,
    ) -> Result<ExecuteTransactionOutput> {
        let stmts = input.transact_statements.unwrap_or_default();
        if stmts.is_empty() || stmts.len() > 100 {
            return Err(Error::validation(
                "1 validation error detected: Value at 'transactStatements' failed to satisfy constraint: Member must have length less than or equal to 100",
            ));
        }
        for (i, s) in stmts.iter().enumerate() {
            let text = s.statement.as_deref().unwrap_or_default();
            check_statement_length(
                text,
                &format!("transactStatements.{}.member.statement", i + 1),
            )?;
        }
        let parsed: Vec<Statement> = stmts
            .iter()
            .map(|s| {
                parse::parse(
                    s.statement.as_deref().unwrap_or_default(),
                    s.parameters.as_deref().unwrap_or_default(),
                )
                .map_err(|m| malformed(&m))
            })
            .collect::<Result<_>>()?;
        let reads = parsed
            .iter()
            .filter(|s| matches!(s, Statement::Select { .. }))
            .count();
        if reads != 0 && reads != parsed.len() {
            return Err(Error::validation(
                "Transaction must contain either all reads or all writes",
            ));
        }
        if reads > 0 {
            let mut items = Vec::new();
            for st in parsed {
                let Statement::Select {
                    table,
                    projection,
                    cond,
                    ..
                } = st
                else {
                    continue;
                };
                let schema = self.schema_of(&table, None)?;
                let (key, _) = key_and_rest(cond.as_ref(), &schema)?;
                let mut sub = Subst::default();
                let projection_expression = projection.map(|ps| {
                    ps.into_iter()
                        .map(|mut p| {
                            sub.path(&mut p);
                            p.to_string()
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                });
                items.push(TransactGetItem {
                    get: Some(TransactGet {
                        table_name: Some(table),
                        key: Some(key),
                        projection_expression,
                        expression_attribute_names: sub.names(),
                    }),
                });
            }
            let out = self.transact_get_items(TransactGetItemsInput {
                transact_items: Some(items),
                return_consumed_capacity: None,
            })?;
            return Ok(ExecuteTransactionOutput {
                responses: out.responses,
                consumed_capacity: None,
            });
        }
        let mut inserts = Vec::new();
        let mut items = Vec::new();
        for st in parsed {
            inserts.push(matches!(st, Statement::Insert { .. }));
            items.push(match self.write_input(st)? {
                Write::Put(a) => TransactWriteItem {
                    put: Some(a),
                    ..Default::default()
                },
                Write::Update(a) => TransactWriteItem {
                    update: Some(a),
                    ..Default::default()
                },
                Write::Delete(a) => TransactWriteItem {
                    delete: Some(a),
                    ..Default::default()
                },
            });
        }
        let out = self.transact_write_items(TransactWriteItemsInput {
            transact_items: Some(items),
            client_request_token: input.client_request_token,
            ..Default::default()
        });
        match out {
            Ok(_) => Ok(ExecuteTransactionOutput {
                responses: None,
                consumed_capacity: None,
            }),
            Err(Error::TransactionCanceled { mut reasons }) => {
                for (r, insert) in reasons.iter_mut().zip(inserts) {
                    if insert && r.code == "ConditionalCheckFailed" {
                        r.code = "DuplicateItem".into();
                        r.message = Some("Duplicate primary key exists in table".into());
                    }
                }
                Err(Error::TransactionCanceled { reasons })
            }
            Err(e) => Err(e),
        }
    }
}

enum Write {
    Put(TransactAction),
    Update(TransactAction),
    Delete(TransactAction),
}

impl Write {
    fn run(self, db: &RegionDb) -> Result<()> {
        match self {
            Write::Put(a) => db
                .put_item(PutItemInput {
                    table_name: a.table_name,
                    item: a.item,
                    condition_expression: a.condition_expression,
                    expression_attribute_names: a.expression_attribute_names,
                    expression_attribute_values: a.expression_attribute_values,
                    ..Default::default()
                })
                .map(|_| ())
                .map_err(|e| {
                    if matches!(e, Error::ConditionalCheckFailed { .. }) {
                        Error::DuplicateItem
                    } else {
                        e
                    }
                }),
            Write::Update(a) => db
                .update_item(UpdateItemInput {
                    table_name: a.table_name,
                    key: a.key,
                    update_expression: a.update_expression,
                    condition_expression: a.condition_expression,
                    expression_attribute_names: a.expression_attribute_names,
                    expression_attribute_values: a.expression_attribute_values,
                    ..Default::default()
                })
                .map(|_| ()),
            Write::Delete(a) => db
                .delete_item(DeleteItemInput {
                    table_name: a.table_name,
                    key: a.key,
                    condition_expression: a.condition_expression,
                    expression_attribute_names: a.expression_attribute_names,
                    expression_attribute_values: a.expression_attribute_values,
                    ..Default::default()
                })
                .map(|_| ()),
        }
    }
}

fn statement_error(e: &Error) -> BatchStatementError {
    let code = match e {
        Error::ConditionalCheckFailed { .. } => "ConditionalCheckFailed",
        Error::DuplicateItem => "DuplicateItem",
        Error::ResourceNotFound(_) => "ResourceNotFound",
        Error::ProvisionedThroughputExceeded => "ProvisionedThroughputExceeded",
        Error::TransactionConflict => "TransactionConflict",
        _ => "ValidationError",
    };
    BatchStatementError {
        code: code.into(),
        message: e.to_string(),
        item: None,
    }
}

/// The longest PartiQL statement DynamoDB accepts, in characters (the API's `Statement` member).
pub const MAX_STATEMENT_CHARS: usize = 8192;

/// DynamoDB's request-validation error for a statement outside 1..=8192 characters; `at` is the
/// member's path in the request (`statement`, `statements.1.member.statement`, …).
fn check_statement_length(stmt: &str, at: &str) -> Result<()> {
    let chars = stmt.chars().count();
    if chars == 0 {
        return Err(Error::validation(format!(
            "1 validation error detected: Value '' at '{at}' failed to satisfy constraint: Member must have length greater than or equal to 1"
        )));
    }
    if chars > MAX_STATEMENT_CHARS {
        return Err(Error::validation(format!(
            "1 validation error detected: Value at '{at}' failed to satisfy constraint: Member must have length less than or equal to {MAX_STATEMENT_CHARS}"
        )));
    }
    Ok(())
}
