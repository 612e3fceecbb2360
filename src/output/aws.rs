//! AWS Network Firewall's log wrapper: each EVE event inside
//! `{firewall_name, availability_zone, event_timestamp, event}`. Alert logs go to
//! `alert.json`, flow logs (EVE `netflow` records) to `flow.json`, as AWS's two log types.

use serde::Serialize;

/// Where AWS-style logs claim to come from.
#[derive(Clone, Debug)]
pub struct AwsLogIdentity {
    pub firewall_name: String,
    pub availability_zone: String,
}

impl AwsLogIdentity {
    /// Default availability zone when none is given.
    pub const DEFAULT_AZ: &'static str = "us-east-1a";
}

/// One wrapped record. `event_timestamp` is the event's epoch second as a string, as in
/// AWS's alert and flow examples (AWS uses the log write time; offline, the event time).
#[derive(Serialize)]
pub struct AwsRecord<'a, E: Serialize> {
    pub firewall_name: &'a str,
    pub availability_zone: &'a str,
    pub event_timestamp: String,
    pub event: &'a E,
}

impl AwsRecord<'_, ()> {
    /// Writes the wrapper around an event that `event` writes as JSON.
    pub fn write_json(
        identity: &AwsLogIdentity,
        event_secs: i64,
        buf: &mut Vec<u8>,
        event: impl FnOnce(&mut Vec<u8>),
    ) {
        let mut o = super::json::JsonObject::begin(buf);
        o.string("firewall_name", &identity.firewall_name);
        o.string("availability_zone", &identity.availability_zone);
        o.string("event_timestamp", itoa::Buffer::new().format(event_secs));
        let mut inner = Vec::with_capacity(512);
        event(&mut inner);
        o.raw("event", &inner);
        o.end();
    }
}

impl<'a, E: Serialize> AwsRecord<'a, E> {
    pub fn wrap(identity: &'a AwsLogIdentity, event_secs: i64, event: &'a E) -> Self {
        AwsRecord {
            firewall_name: &identity.firewall_name,
            availability_zone: &identity.availability_zone,
            event_timestamp: event_secs.to_string(),
            event,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapper_shape_matches_aws_examples() {
        let id = AwsLogIdentity {
            firewall_name: "test-firewall".into(),
            availability_zone: "us-east-1b".into(),
        };
        let event = serde_json::json!({"event_type": "netflow"});
        let line =
            serde_json::to_string(&AwsRecord::wrap(&id, 1_602_627_001, &event)).expect("serialise");
        assert_eq!(
            line,
            r#"{"firewall_name":"test-firewall","availability_zone":"us-east-1b","event_timestamp":"1602627001","event":{"event_type":"netflow"}}"#
        );
        let mut fast = Vec::new();
        AwsRecord::write_json(&id, 1_602_627_001, &mut fast, |b| {
            b.extend_from_slice(br#"{"event_type":"netflow"}"#)
        });
        assert_eq!(String::from_utf8_lossy(&fast), line);
        // A name needing escapes stays valid JSON.
        let odd = AwsLogIdentity {
            firewall_name: "fw \"q\"".into(),
            availability_zone: "az".into(),
        };
        let mut fast = Vec::new();
        AwsRecord::write_json(&odd, 1, &mut fast, |b| b.extend_from_slice(b"{}"));
        let v: serde_json::Value = serde_json::from_slice(&fast).expect("valid JSON");
        assert_eq!(v["firewall_name"], "fw \"q\"");
    }
}
