//! The `math()` step's expression language: numbers, variables (`_` is the current object, any
//! other name a step label resolved through `by` modulators in order of first appearance),
//! `+ - * / % ^`, unary minus, parentheses and exp4j's functions (`abs`, `sqrt`, `cbrt`, `sin`,
//! `cos`, `tan`, `asin`, `acos`, `atan`, `sinh`, `cosh`, `tanh`, `exp`, `log`, `log10`, `log2`,
//! `ceil`, `floor`, `signum`). Results are always `Double`, as in TinkerPop.

use crate::error::{Error, Result};

/// A parsed math expression.
#[derive(Debug, Clone, PartialEq)]
pub enum MathExpr {
    /// A number.
    Num(f64),
    /// A variable.
    Var(String),
    /// Unary minus.
    Neg(Box<MathExpr>),
    /// A binary operation.
    Bin(char, Box<MathExpr>, Box<MathExpr>),
    /// A function call.
    Call(String, Box<MathExpr>),
}

const FUNCS: &[&str] = &[
    "abs", "sqrt", "cbrt", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh",
    "exp", "log", "log10", "log2", "ceil", "floor", "signum",
];

impl MathExpr {
    /// Parses `src`.
    pub fn parse(src: &str) -> Result<MathExpr> {
        let toks: Vec<char> = src.chars().collect();
        let mut p = P { t: toks, i: 0, src };
        let e = p.expr(0)?;
        p.ws();
        if p.i < p.t.len() {
            return Err(p.err("unexpected character"));
        }
        Ok(e)
    }

    /// Variables in order of first appearance.
    pub fn variables(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect(&self, out: &mut Vec<String>) {
        match self {
            MathExpr::Var(v) if !out.contains(v) => out.push(v.clone()),
            MathExpr::Neg(e) | MathExpr::Call(_, e) => e.collect(out),
            MathExpr::Bin(_, a, b) => {
                a.collect(out);
                b.collect(out);
            }
            _ => {}
        }
    }

    /// Evaluates with `var` resolving variables.
    pub fn eval(&self, var: &dyn Fn(&str) -> Result<f64>) -> Result<f64> {
        Ok(match self {
            MathExpr::Num(n) => *n,
            MathExpr::Var(v) => var(v)?,
            MathExpr::Neg(e) => -e.eval(var)?,
            MathExpr::Bin(op, a, b) => {
                let (x, y) = (a.eval(var)?, b.eval(var)?);
                match op {
                    '+' => x + y,
                    '-' => x - y,
                    '*' => x * y,
                    '/' => x / y,
                    '%' => x % y,
                    _ => x.powf(y),
                }
            }
            MathExpr::Call(f, e) => {
                let x = e.eval(var)?;
                match f.as_str() {
                    "abs" => x.abs(),
                    "sqrt" => x.sqrt(),
                    "cbrt" => x.cbrt(),
                    "sin" => x.sin(),
                    "cos" => x.cos(),
                    "tan" => x.tan(),
                    "asin" => x.asin(),
                    "acos" => x.acos(),
                    "atan" => x.atan(),
                    "sinh" => x.sinh(),
                    "cosh" => x.cosh(),
                    "tanh" => x.tanh(),
                    "exp" => x.exp(),
                    "log" => x.ln(),
                    "log10" => x.log10(),
                    "log2" => x.log2(),
                    "ceil" => x.ceil(),
                    "floor" => x.floor(),
                    _ => x.signum(),
                }
            }
        })
    }
}

struct P<'a> {
    t: Vec<char>,
    i: usize,
    src: &'a str,
}

impl P<'_> {
    fn ws(&mut self) {
        while self.t.get(self.i).is_some_and(|c| c.is_whitespace()) {
            self.i += 1;
        }
    }

    fn err(&self, what: &str) -> Error {
        Error::InvalidParameter(format!(
            "Invalid math expression '{}': {what} at position {}",
            self.src, self.i
        ))
    }

    fn prec(op: char) -> Option<(u8, bool)> {
        match op {
            '+' | '-' => Some((1, false)),
            '*' | '/' | '%' => Some((2, false)),
            '^' => Some((4, true)),
            _ => None,
        }
    }

    fn expr(&mut self, min: u8) -> Result<MathExpr> {
        let mut lhs = self.unary()?;
        loop {
            self.ws();
            let Some(&op) = self.t.get(self.i) else { break };
            let Some((p, right)) = Self::prec(op) else {
                break;
            };
            if p < min {
                break;
            }
            self.i += 1;
            let rhs = self.expr(if right { p } else { p + 1 })?;
            lhs = MathExpr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<MathExpr> {
        self.ws();
        match self.t.get(self.i) {
            Some('-') => {
                self.i += 1;
                // Unary minus binds looser than `^` (exp4j: -2^2 = -4).
                Ok(MathExpr::Neg(Box::new(self.expr(3)?)))
            }
            Some('+') => {
                self.i += 1;
                self.unary()
            }
            _ => self.atom(),
        }
    }

    fn atom(&mut self) -> Result<MathExpr> {
        self.ws();
        let Some(&c) = self.t.get(self.i) else {
            return Err(self.err("unexpected end"));
        };
        if c == '(' {
            self.i += 1;
            let e = self.expr(0)?;
            self.ws();
            if self.t.get(self.i) != Some(&')') {
                return Err(self.err("expected ')'"));
            }
            self.i += 1;
            return Ok(e);
        }
        if c.is_ascii_digit() || c == '.' {
            let start = self.i;
            while self
                .t
                .get(self.i)
                .is_some_and(|c| c.is_ascii_digit() || *c == '.')
            {
                self.i += 1;
            }
            let s: String = self.t[start..self.i].iter().collect();
            return s
                .parse()
                .map(MathExpr::Num)
                .map_err(|_| self.err("invalid number"));
        }
        if c.is_alphabetic() || c == '_' {
            let start = self.i;
            while self
                .t
                .get(self.i)
                .is_some_and(|c| c.is_alphanumeric() || *c == '_')
            {
                self.i += 1;
            }
            let name: String = self.t[start..self.i].iter().collect();
            self.ws();
            if self.t.get(self.i) == Some(&'(') && FUNCS.contains(&name.as_str()) {
                self.i += 1;
                let e = self.expr(0)?;
                self.ws();
                if self.t.get(self.i) != Some(&')') {
                    return Err(self.err("expected ')'"));
                }
                self.i += 1;
                return Ok(MathExpr::Call(name, Box::new(e)));
            }
            return Ok(MathExpr::Var(name));
        }
        Err(self.err("unexpected character"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_with_precedence_and_vars() {
        let e = MathExpr::parse("_ + 2 * 3 ^ 2 - abs(-a) / 2").unwrap();
        assert_eq!(e.variables(), vec!["_".to_owned(), "a".to_owned()]);
        let v = e.eval(&|n| Ok(if n == "_" { 1.0 } else { 4.0 })).unwrap();
        assert_eq!(v, 1.0 + 18.0 - 2.0);
        assert!(MathExpr::parse("1 +").is_err());
        assert!(MathExpr::parse("(1").is_err());
    }
}
