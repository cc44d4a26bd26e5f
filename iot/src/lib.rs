//! # nubis-iot (planned)
//!
//! This crate will be Nubis's IoT Core engine: an MQTT broker with device certificates, things and
//! shadows, the rules engine, Device Defender and Greengrass deployments.
//!
//! No issue has scheduled it yet, so it deliberately exposes no API: nothing here pretends to work.
