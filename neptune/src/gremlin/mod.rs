//! Gremlin: lexer, parser, compiler to a typed traversal, planner, lazy executor, GraphSON.
//!
//! The path of a query: [`parse::parse`] (text → spanned chains) → [`compile::compile`] (chains
//! → typed [`ir::Traversal`], errors with positions) → [`optimize`] (index lookups) →
//! [`exec`] (iterators over traversers) → [`graphson::write`].

pub mod compile;
pub mod datetime;
pub mod exec;
pub mod graphson;
pub mod ir;
pub mod lexer;
pub mod math;
pub mod optimize;
pub mod parse;
