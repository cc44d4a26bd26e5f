//! nubis-lambda: being built (see docs/lambda.md).
