//! GROUP BY items into grouping sets: plain expressions, `ROLLUP (…)`, `CUBE (…)`,
//! `GROUPING SETS (…)` (nested, and `()` for the grand total), combined as PostgreSQL does —
//! the sets of several items are their cross product.
//!
//! Guarantee: a GROUP BY of plain expressions only gives no sets (the ordinary single-set
//! aggregate), so only queries that use the grouping-set forms take the grouping-set path;
//! `CUBE` of more than 12 elements fails with 54001, as in PostgreSQL.

use sqlparser::ast;

use crate::error::{AuroraError, Result};

/// Most elements `CUBE` takes (PostgreSQL's limit: 2^12 grouping sets).
const MAX_CUBE: usize = 12;

/// The grouping expressions (each distinct one once, in order of appearance) and, when the
/// clause makes grouping sets, each set as indexes into them (empty: plain GROUP BY).
pub fn grouping_sets(group_by: &ast::GroupByExpr) -> Result<(Vec<ast::Expr>, Vec<Vec<usize>>)> {
    let ast::GroupByExpr::Expressions(items, mods) = group_by else {
        return Err(AuroraError::sql("42601", "syntax error at or near \"ALL\""));
    };
    let mut plain = mods.is_empty();
    let mut sets: Vec<Vec<ast::Expr>> = vec![Vec::new()];
    for item in items {
        let item_sets = match expand(item)? {
            Some(s) => {
                plain = false;
                s
            }
            None => vec![vec![item.clone()]],
        };
        sets = cross(&sets, &item_sets);
    }
    for m in mods {
        // MySQL's `GROUP BY a, b WITH ROLLUP` / `WITH CUBE` spellings apply to the whole list.
        let elems: Vec<Vec<ast::Expr>> = items.iter().map(|e| vec![e.clone()]).collect();
        sets = match m {
            ast::GroupByWithModifier::Rollup => rollup(&elems),
            ast::GroupByWithModifier::Cube => cube(&elems)?,
            other => {
                return Err(AuroraError::sql(
                    "42601",
                    format!("syntax error at or near \"{other}\""),
                ));
            }
        };
    }
    if plain {
        return Ok((items.clone(), Vec::new()));
    }
    let mut exprs: Vec<ast::Expr> = Vec::new();
    let mut out = Vec::with_capacity(sets.len());
    for set in sets {
        let mut idx: Vec<usize> = Vec::with_capacity(set.len());
        for e in set {
            let i = match exprs.iter().position(|x| *x == e) {
                Some(i) => i,
                None => {
                    exprs.push(e);
                    exprs.len() - 1
                }
            };
            if !idx.contains(&i) {
                idx.push(i);
            }
        }
        out.push(idx);
    }
    Ok((exprs, out))
}

/// The sets of one grouping-set item (`None` for a plain expression).
fn expand(e: &ast::Expr) -> Result<Option<Vec<Vec<ast::Expr>>>> {
    Ok(Some(match e {
        ast::Expr::Rollup(elems) => rollup(elems),
        ast::Expr::Cube(elems) => cube(elems)?,
        ast::Expr::GroupingSets(sets) => {
            let mut out = Vec::new();
            for set in sets {
                // A set's members may themselves be ROLLUP/CUBE/GROUPING SETS.
                let mut inner: Vec<Vec<ast::Expr>> = vec![Vec::new()];
                for m in set {
                    let m_sets = expand(m)?.unwrap_or_else(|| vec![vec![m.clone()]]);
                    inner = cross(&inner, &m_sets);
                }
                out.extend(inner);
            }
            out
        }
        // `GROUP BY ()` is the grand total: one empty set.
        ast::Expr::Tuple(t) if t.is_empty() => vec![Vec::new()],
        _ => return Ok(None),
    }))
}

/// `ROLLUP (e1, …, en)`: (e1 … en), (e1 … en-1), …, ().
fn rollup(elems: &[Vec<ast::Expr>]) -> Vec<Vec<ast::Expr>> {
    (0..=elems.len())
        .rev()
        .map(|k| elems[..k].concat())
        .collect()
}

/// `CUBE (e1, …, en)`: every subset, the full set first and () last.
fn cube(elems: &[Vec<ast::Expr>]) -> Result<Vec<Vec<ast::Expr>>> {
    let n = elems.len();
    if n > MAX_CUBE {
        return Err(AuroraError::sql("54001", "CUBE is limited to 12 elements"));
    }
    Ok((0..1u32 << n)
        .rev()
        .map(|mask| {
            elems
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << (n - 1 - i)) != 0)
                .flat_map(|(_, e)| e.iter().cloned())
                .collect()
        })
        .collect())
}

/// Every set of `a` followed by every set of `b`, concatenated.
fn cross(a: &[Vec<ast::Expr>], b: &[Vec<ast::Expr>]) -> Vec<Vec<ast::Expr>> {
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            let mut s = x.clone();
            s.extend(y.iter().cloned());
            out.push(s);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The grouping sets of a query's GROUP BY, each as the names of its expressions.
    fn sets_of(sql: &str) -> Result<Vec<Vec<String>>> {
        let stmts = crate::session::parse(sql)?;
        let Some(ast::Statement::Query(q)) = stmts.first() else {
            return Err(AuroraError::sql("XX000", "not a query"));
        };
        let ast::SetExpr::Select(s) = q.body.as_ref() else {
            return Err(AuroraError::sql("XX000", "not a select"));
        };
        let (exprs, sets) = grouping_sets(&s.group_by)?;
        Ok(sets
            .iter()
            .map(|set| set.iter().map(|&i| exprs[i].to_string()).collect())
            .collect())
    }

    #[test]
    fn rollup_cube_and_sets_expand_as_postgresql_does() {
        let s = |v: &[&[&str]]| -> Vec<Vec<String>> {
            v.iter()
                .map(|x| x.iter().map(|n| n.to_string()).collect())
                .collect()
        };
        assert_eq!(
            sets_of("SELECT 1 FROM t GROUP BY ROLLUP (a, b)").ok(),
            Some(s(&[&["a", "b"], &["a"], &[]]))
        );
        assert_eq!(
            sets_of("SELECT 1 FROM t GROUP BY CUBE (a, b)").ok(),
            Some(s(&[&["a", "b"], &["a"], &["b"], &[]]))
        );
        assert_eq!(
            sets_of("SELECT 1 FROM t GROUP BY GROUPING SETS ((a, b), (c), ())").ok(),
            Some(s(&[&["a", "b"], &["c"], &[]]))
        );
        // Items combine as a cross product; a repeated expression is grouped once.
        assert_eq!(
            sets_of("SELECT 1 FROM t GROUP BY a, ROLLUP (b, a)").ok(),
            Some(s(&[&["a", "b"], &["a", "b"], &["a"]]))
        );
        // Plain GROUP BY makes no sets at all.
        assert_eq!(
            sets_of("SELECT 1 FROM t GROUP BY a, b").ok(),
            Some(Vec::new())
        );
    }

    #[test]
    fn cube_is_limited_to_twelve_elements() {
        let cols: Vec<String> = (0..13).map(|i| format!("c{i}")).collect();
        let sql = format!("SELECT 1 FROM t GROUP BY CUBE ({})", cols.join(", "));
        assert!(matches!(sets_of(&sql), Err(e) if e.to_string().contains("CUBE is limited")));
        let sql = format!("SELECT 1 FROM t GROUP BY CUBE ({})", cols[..12].join(", "));
        assert_eq!(sets_of(&sql).map(|s| s.len()).ok(), Some(4096));
    }
}
