//! nubis-dynamo: being built (see docs/dynamo.md).
