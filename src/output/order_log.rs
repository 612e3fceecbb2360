//! A sharded run's order log: for each record it wrote, the record's place in the order a
//! single run would write it ([`OrderKey`]), how many lines it took in each output file,
//! and the threshold decision left to `rulesim merge` (thresholds count across flows,
//! which shards split). One JSON line per record, in the order the records were written.

use serde::{Deserialize, Serialize};

use super::OrderKey;
use crate::detect::ThresholdCheck;
use crate::rules::options::ThresholdValue;

/// The file name of the order log in a shard's log directory.
pub const ORDER_LOG: &str = "shard-order.json";

/// One record of a shard's output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub key: OrderKey,
    /// Lines in `eve.json`.
    pub eve: u32,
    /// Lines in the AWS `flow.json` and `alert.json`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub flow_log: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub alert_log: u32,
    /// An alert written only if its rule's threshold allows it in the merged order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<DeferredThreshold>,
    /// An alert whose place in its packet's alert queue (`packet-alert-max`) is decided
    /// after the thresholds, in the merged order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<crate::detect::QueuePlace>,
}

/// A threshold decision with the rule's values, so that the merge needs no rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeferredThreshold {
    pub check: ThresholdCheck,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<ThresholdValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detection_filter: Option<ThresholdValue>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}
