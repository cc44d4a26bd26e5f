//! nubis-dynamo: being built (see docs/dynamo.md).

pub mod error;
pub mod expr;
pub mod number;
pub mod value;
