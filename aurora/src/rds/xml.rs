//! XML renderings of RDS shapes (namespace `http://rds.amazonaws.com/doc/2014-10-31/`).

use std::fmt::Write;

use nubis_core::clock::to_rfc3339;
use nubis_wire::xml_escape;

use super::global::GlobalView;
use super::model::{ClusterView, InstanceView};

/// The awsQuery response namespace.
pub const NS: &str = "http://rds.amazonaws.com/doc/2014-10-31/";

/// `<{action}Response><{action}Result>{result}</…><ResponseMetadata>…`.
pub fn envelope(action: &str, result: &str, request_id: &str) -> String {
    format!(
        "<{action}Response xmlns=\"{NS}\"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
        xml_escape(request_id)
    )
}

fn el(out: &mut String, name: &str, value: &str) {
    let _ = write!(out, "<{name}>{}</{name}>", xml_escape(value));
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

/// A `<DBCluster>` element.
pub fn cluster(c: &ClusterView) -> String {
    let mut o = String::from("<DBCluster>");
    el(&mut o, "DBClusterIdentifier", &c.id);
    el(&mut o, "DBClusterArn", &c.arn);
    el(&mut o, "Status", &c.status);
    el(&mut o, "Engine", &c.engine);
    el(&mut o, "EngineVersion", &c.engine_version);
    el(&mut o, "EngineMode", "provisioned");
    el(&mut o, "Endpoint", &c.endpoint);
    el(&mut o, "ReaderEndpoint", &c.reader_endpoint);
    el(&mut o, "Port", &c.port.to_string());
    el(&mut o, "MasterUsername", &c.master_username);
    if let Some(d) = &c.database_name {
        el(&mut o, "DatabaseName", d);
    }
    el(&mut o, "MultiAZ", &(c.members.len() > 1).to_string());
    el(&mut o, "DbClusterResourceId", &c.resource_id);
    el(&mut o, "ClusterCreateTime", &to_rfc3339(c.created));
    el(
        &mut o,
        "DeletionProtection",
        &c.deletion_protection.to_string(),
    );
    el(&mut o, "StorageEncrypted", "false");
    el(&mut o, "StorageType", "aurora");
    o.push_str("<AvailabilityZones>");
    for az in ["a", "b", "c"] {
        el(&mut o, "AvailabilityZone", &format!("{}{az}", c.region));
    }
    o.push_str("</AvailabilityZones><DBClusterMembers>");
    for (name, writer, tier) in &c.members {
        o.push_str("<DBClusterMember>");
        el(&mut o, "DBInstanceIdentifier", name);
        el(&mut o, "IsClusterWriter", &writer.to_string());
        el(&mut o, "DBClusterParameterGroupStatus", "in-sync");
        el(&mut o, "PromotionTier", &tier.to_string());
        o.push_str("</DBClusterMember>");
    }
    o.push_str("</DBClusterMembers>");
    if let Some(s) = &c.serverless {
        o.push_str("<ServerlessV2ScalingConfiguration>");
        el(&mut o, "MinCapacity", &num(s.min_acu));
        el(&mut o, "MaxCapacity", &num(s.max_acu));
        el(
            &mut o,
            "SecondsUntilAutoPause",
            &s.seconds_until_auto_pause.to_string(),
        );
        o.push_str("</ServerlessV2ScalingConfiguration>");
    }
    if let Some(cap) = c.capacity {
        el(&mut o, "Capacity", &format!("{}", cap.ceil() as i64));
    }
    o.push_str("</DBCluster>");
    o
}

/// A `<DBInstance>` element.
pub fn instance(i: &InstanceView) -> String {
    let mut o = String::from("<DBInstance>");
    el(&mut o, "DBInstanceIdentifier", &i.id);
    el(&mut o, "DBInstanceArn", &i.arn);
    el(&mut o, "DBClusterIdentifier", &i.cluster);
    el(&mut o, "DBInstanceClass", &i.class);
    el(&mut o, "Engine", &i.engine);
    el(&mut o, "DBInstanceStatus", &i.status);
    el(&mut o, "PromotionTier", &i.tier.to_string());
    el(&mut o, "InstanceCreateTime", &to_rfc3339(i.created));
    el(&mut o, "PubliclyAccessible", "false");
    o.push_str("<Endpoint>");
    el(&mut o, "Address", &i.address);
    el(&mut o, "Port", &i.port.to_string());
    o.push_str("</Endpoint></DBInstance>");
    o
}

/// A `<GlobalCluster>` element.
pub fn global(g: &GlobalView) -> String {
    let mut o = String::from("<GlobalCluster>");
    el(&mut o, "GlobalClusterIdentifier", &g.id);
    el(&mut o, "GlobalClusterArn", &g.arn);
    el(&mut o, "GlobalClusterResourceId", &g.resource_id);
    el(&mut o, "Status", "available");
    el(&mut o, "Engine", "aurora-postgresql");
    el(&mut o, "EngineVersion", &g.engine_version);
    el(&mut o, "StorageEncrypted", "false");
    el(
        &mut o,
        "DeletionProtection",
        &g.deletion_protection.to_string(),
    );
    o.push_str("<GlobalClusterMembers>");
    for (arn, writer) in &g.members {
        o.push_str("<GlobalClusterMember>");
        el(&mut o, "DBClusterArn", arn);
        el(&mut o, "IsWriter", &writer.to_string());
        o.push_str("<Readers>");
        if *writer {
            for (other, w) in &g.members {
                if !w {
                    el(&mut o, "member", other);
                }
            }
        }
        o.push_str("</Readers></GlobalClusterMember>");
    }
    o.push_str("</GlobalClusterMembers></GlobalCluster>");
    o
}
