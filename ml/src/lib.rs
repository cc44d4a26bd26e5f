//! # nubis-ml (planned)
//!
//! This crate will be Nubis's SageMaker and AI-services engine: training jobs and endpoints over
//! built-in algorithms, and Comprehend, Translate, Transcribe, Polly and Rekognition backed by
//! local models and engines.
//!
//! No issue has scheduled it yet, so it deliberately exposes no API: nothing here pretends to work.
