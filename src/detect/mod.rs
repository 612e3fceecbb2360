//! The detection engine: which rules match a packet, what happens to the packet and the
//! flow, and which alerts are written — Suricata 7.0.10's answer.
//!
//! Built once from a ruleset ([`DetectEngine::new`]); per flow it keeps a [`FlowDetect`]
//! (flowbits, the flow's pass/drop, which IP-only and transaction inspections are done).
//! For each packet ([`DetectEngine::inspect`]), in Suricata's phases:
//! 1. IP-only rules, on the first packet of each direction of a flow;
//! 2. packet, stream, app-layer and protocol-detection rules, in rule order;
//! 3. transaction rules, per transaction with data for the packet's direction.
//!
//! The matches are then ordered by rule order (action order, flowbits, priority, sid) and
//! walked as `PacketAlertFinalize` does: a pass stops the walk, drops and rejects drop the
//! packet (and the flow, when the rule type acts on flows), alerts are written.

pub mod base64;
pub mod buffers;
pub mod bytes;
pub mod header_index;
pub mod literals;
pub mod payload;
pub mod pcre;
pub mod prefilter;
pub mod signature;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use crate::app::tls::state as ssl_flags;
use crate::app::{AppProto, FlowApp, Parser};
use crate::rules::options::{NumTest, ThresholdValue};
use crate::rules::policy::DefaultAction;
use crate::rules::{Action, Rule, RuleContext, RuleSet, VarTable};
use crate::time::Timestamp;

use prefilter::{Prefilter, PrefilterSummary, Scratch};
use signature::{num_test, FlowbitOp, ProtoMatch};
pub use signature::{CompileError, SigKind, Signature};

/// The order of actions (Suricata's `action-order`), first wins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionOrder(pub Vec<Action>);

impl Default for ActionOrder {
    /// Suricata's default: pass, drop, reject, alert.
    fn default() -> Self {
        ActionOrder(vec![
            Action::Pass,
            Action::Drop,
            Action::Reject,
            Action::Alert,
        ])
    }
}

impl ActionOrder {
    fn rank(&self, a: Action) -> usize {
        let class = match a {
            Action::RejectSrc | Action::RejectDst | Action::RejectBoth => Action::Reject,
            a => a,
        };
        self.0
            .iter()
            .position(|&x| x == class)
            .unwrap_or(self.0.len())
    }

    /// Parses `pass,drop,reject,alert` (any order of the four).
    pub fn parse(text: &str) -> Result<ActionOrder, String> {
        let mut out = Vec::new();
        for w in text
            .trim_matches(|c| c == '[' || c == ']')
            .split(',')
            .map(|w| w.trim())
            .filter(|w| !w.is_empty())
        {
            let a = match w {
                "pass" => Action::Pass,
                "drop" => Action::Drop,
                "reject" => Action::Reject,
                "alert" => Action::Alert,
                other => {
                    return Err(format!(
                        "`{other}` is not an action (pass, drop, reject, alert)"
                    ))
                }
            };
            if out.contains(&a) {
                return Err(format!("`{w}` is listed twice"));
            }
            out.push(a);
        }
        if out.len() != 4 {
            return Err("action-order must list pass, drop, reject and alert".into());
        }
        Ok(ActionOrder(out))
    }
}

/// Detection settings.
#[derive(Clone, Debug)]
pub struct DetectSettings {
    /// IPS (`--simulate-ips`): drops are `blocked`, the packet's verdict is `drop`.
    pub ips: bool,
    pub action_order: ActionOrder,
    /// AWS `STRICT_ORDER`: rules in the order loaded (groups by priority, rules as
    /// written), the first pass/drop/reject decides, then `default_actions`.
    pub strict: bool,
    /// The policy's stateful default actions (strict order only).
    pub default_actions: Vec<DefaultAction>,
    /// The sids of the alerts the alert default actions log: `aws:alert_strict`,
    /// `aws:alert_established`, `aws:alert_established_app_layer`,
    /// `aws:alert_established_app_layer_to_server` (AWS documents 2, 4, 6, 8 but does not
    /// promise them; `aws.default-action-sids.*`).
    pub default_action_sids: [u32; 4],
    /// `detect.guess-applayer-tx`: a packet-phase alert on a flow with exactly one live
    /// transaction gets that transaction (`tx_id`, `tx_guessed`, its app-layer object).
    pub guess_applayer_tx: bool,
    /// Inspect every rule on every packet instead of the prefilter's candidates.
    pub prefilter_off: bool,
    /// Record every matching rule and its part in the verdict ([`PacketOutcome::trace`]),
    /// for `explain`, `test` and `diff`.
    pub trace: bool,
    /// `packet-alert-max`: alerts kept per packet (Suricata's default 15, at most 255).
    pub packet_alert_max: u16,
    /// Threshold windows kept at most (`detect.rulesim.threshold-entries`).
    pub threshold_entries: usize,
    /// `xbits` kept at most (`detect.rulesim.xbits-entries`).
    pub xbits_entries: usize,
    /// `detect.inspection-recursion-limit`: steps one content inspection may take (0: no
    /// limit).
    pub recursion_limit: u32,
    /// HTTP request and response bodies wait for this many bytes in IDS mode (libhtp's
    /// `request-body-minimal-inspect-size`, `response-body-minimal-inspect-size`).
    pub body_inspect_min: [u64; 2],
}

/// Suricata's `PACKET_ALERT_MAX`.
pub const DEFAULT_PACKET_ALERT_MAX: u16 = 15;

/// The system signatures AWS's guide names for the strict-order alert default actions
/// (`alert_strict`, `alert_established`, `alert_established_app_layer`,
/// `alert_established_app_layer_to_server`).
pub const DEFAULT_ACTION_SIDS: [u32; 4] = [2, 4, 6, 8];

impl Default for DetectSettings {
    fn default() -> Self {
        DetectSettings {
            ips: false,
            action_order: ActionOrder::default(),
            strict: false,
            default_actions: Vec::new(),
            default_action_sids: DEFAULT_ACTION_SIDS,
            guess_applayer_tx: false,
            prefilter_off: false,
            trace: false,
            packet_alert_max: DEFAULT_PACKET_ALERT_MAX,
            threshold_entries: DEFAULT_STATE_ENTRIES,
            xbits_entries: DEFAULT_STATE_ENTRIES,
            recursion_limit: payload::DEFAULT_RECURSION_LIMIT,
            body_inspect_min: [
                buffers::REQUEST_BODY_MIN_INSPECT,
                buffers::RESPONSE_BODY_MIN_INSPECT,
            ],
        }
    }
}

/// What a flow got from a flow-scoped pass or drop (the first one wins forever).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowAction {
    Pass,
    Drop,
}

/// Per-flow detection state. Small inline; flowbits and transaction progress, which
/// most flows never need, live behind a box.
#[derive(Clone, Debug, Default)]
pub struct FlowDetect {
    pub action: Option<FlowAction>,
    iponly_done: [bool; 2],
    pd_done: [bool; 2],
    /// The TCP session was established before the current packet.
    pub established: bool,
    /// An alert was written for the flow.
    pub alerted: bool,
    /// Per direction, the parser consumed bytes of that direction since the last packet
    /// of that direction was inspected (Suricata's `FLOW_TS_APP_UPDATED` /
    /// `FLOW_TC_APP_UPDATED`, cleared by the flow worker after such a packet).
    app_updated: [bool; 2],
    more: Option<Box<FlowDetectMore>>,
}

#[derive(Clone, Debug, Default)]
struct FlowDetectMore {
    bits: Vec<u32>,
    /// `flowint` variables: (variable, value).
    ints: Vec<(u32, u32)>,
    /// (signature, transaction, direction) inspections that are over (matched or can no
    /// longer match): as Suricata keeps an inspection state per direction, a rule on
    /// buffers of both sides matches a transaction once in each. Only for transactions
    /// from `tx_done_from` on: older ones are never inspected again in either direction,
    /// and their entries are dropped as inspection moves on, so this holds the live
    /// transactions' entries, not the flow's history.
    tx_done: rustc_hash::FxHashSet<(u32, u64, u8)>,
    tx_done_from: u64,
    /// `tx_done`'s size after it was last pruned (pruning waits until it doubled).
    tx_done_pruned: usize,
    /// Per direction, the first transaction still inspected.
    inspect_id: [u64; 2],
    /// Per direction, the prefilter's findings on the transaction last inspected.
    tx_memo: [prefilter::TxMemo; 2],
}

impl FlowDetect {
    /// The flow's directions swapped.
    pub fn reverse(&mut self) {
        self.iponly_done.swap(0, 1);
        self.pd_done.swap(0, 1);
        self.app_updated.swap(0, 1);
        if let Some(m) = self.more.as_mut() {
            m.inspect_id.swap(0, 1);
            m.tx_memo.swap(0, 1);
        }
    }

    /// The app layer's protocol changed: its transactions start again from id 0.
    pub fn reset_transactions(&mut self) {
        if let Some(m) = self.more.as_mut() {
            m.tx_done.clear();
            m.inspect_id = [0, 0];
            m.tx_memo = Default::default();
        }
    }

    /// Transactions of direction `to_server` (or not) with an id below this are
    /// inspected for good (Suricata's inspect id).
    pub fn inspect_id(&self, to_server: bool) -> u64 {
        self.more
            .as_ref()
            .map_or(0, |m| m.inspect_id[usize::from(!to_server)])
    }

    /// Transactions with an id below this are inspected in both directions for good.
    pub fn transactions_done_below(&self) -> u64 {
        self.more
            .as_ref()
            .map_or(0, |m| m.inspect_id[0].min(m.inspect_id[1]))
    }

    fn bits(&self) -> &[u32] {
        self.more.as_ref().map_or(&[], |m| &m.bits)
    }

    fn more(&mut self) -> &mut FlowDetectMore {
        self.more.get_or_insert_with(Default::default)
    }
}

/// A packet as the detection engine sees it (a real one or an end-of-flow pseudo packet).
pub struct PacketView<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sp: u16,
    pub dp: u16,
    pub proto: u8,
    /// ICMP type and code.
    pub icmp: Option<(u8, u8)>,
    /// The payload (empty for pseudo packets).
    pub payload: &'a [u8],
    /// Direction in the flow; `None` for packets without a flow.
    pub to_server: Option<bool>,
    pub established: bool,
    /// The packet's data went into the TCP stream (stream rules look there, not here).
    pub in_stream: bool,
    /// Reassembled stream bytes to inspect with this packet.
    pub raw: Option<&'a [u8]>,
    /// The payload may be inspected: false once the flow's payload inspection is off
    /// (TLS application data), when content keywords match nothing (`dsize` still
    /// sees the payload's size).
    pub payload_inspection: bool,
    /// A reassembled IP datagram.
    pub fragment: bool,
    /// The app-layer protocol finished detection (for protocol-detection rules).
    pub proto_detected: bool,
    pub pseudo: bool,
    /// The parser consumed bytes of each direction (to server, to client) on this packet.
    pub app_parsed: [bool; 2],
    /// What the header keywords test (empty for pseudo packets).
    pub header: crate::rules::header::HeaderFields,
}

impl<'a> PacketView<'a> {
    /// The payload content keywords look at (none once payload inspection is off).
    pub(crate) fn inspected_payload(&self) -> &'a [u8] {
        if self.payload_inspection {
            self.payload
        } else {
            &[]
        }
    }

    pub(crate) fn inspected_raw(&self) -> Option<&'a [u8]> {
        self.raw.filter(|_| self.payload_inspection)
    }
}

/// A rule's match on a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    pub sig: u32,
    pub flow_scoped: bool,
    pub tx_id: Option<u64>,
    /// A packet-phase match given a transaction as Suricata guesses one (see
    /// [`DetectEngine::guessed_tx`]).
    pub tx_guessed: bool,
}

/// Moves direction `d`'s inspect id past the transactions complete in that direction.
fn advance_inspect_id(fd: &mut FlowDetect, app: &FlowApp, d: usize) {
    if !matches!(app.proto, AppProto::Known(_)) {
        return;
    }
    let from = fd.more.as_ref().map_or(0, |m| m.inspect_id[d]);
    let mut next = from;
    for tx in buffers::transactions(&app.parser, from) {
        if tx.id != next || !tx.complete[d] {
            break;
        }
        next = tx.id + 1;
    }
    if next != from {
        fd.more().inspect_id[d] = next;
    }
}

/// One alert to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlertHit {
    pub sig: u32,
    pub tx_id: Option<u64>,
    /// The transaction was guessed for a packet-phase match (EVE `tx_guessed`).
    pub tx_guessed: bool,
    /// `alert.action`: `blocked` (true) or `allowed`.
    pub blocked: bool,
    /// For a worker thread's engine: the alert is written only if its rule's
    /// `threshold`/`detection_filter` allows it, decided in output order.
    pub threshold: Option<ThresholdCheck>,
    /// For a worker thread's engine, when the packet has more alerts than
    /// `packet-alert-max` and some wait for a threshold decision: the place in the
    /// packet's alert queue is decided in output order too, after the thresholds.
    pub queue: Option<QueuePlace>,
}

/// An alert competing with the other alerts of its packet for the `packet-alert-max`
/// places of the packet's alert queue, decided where the worker threads' records are
/// merged (see [`AlertHit::queue`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QueuePlace {
    /// The packet, numbered by the worker's engine (records of one packet are together).
    pub packet: u64,
    /// `packet-alert-max`.
    pub max: u16,
}

/// A threshold decision left to the output merge: thresholds tracked `by_src`, `by_dst`,
/// `by_both` or `by_rule` count alerts across flows, which worker threads split, so they
/// are counted where the workers' records are put back in one order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ThresholdCheck {
    sig: u32,
    src: IpAddr,
    dst: IpAddr,
    /// The packet's time (Suricata compares threshold windows to the microsecond).
    now: Timestamp,
    /// Numbers a worker's deferred checks (from 1), so that the merge's decision can be
    /// applied to the worker's decision records too.
    #[serde(default, skip_serializing)]
    pub seq: u64,
}

/// The outcome of one packet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PacketOutcome {
    pub alerts: Vec<AlertHit>,
    /// The packet is dropped (IPS) / would be (IDS): a drop or reject matched it.
    pub drop: bool,
    /// The reject that matched, if any (for the verdict's `reject` fields).
    pub reject: Option<Action>,
    /// A pass matched.
    pub pass: bool,
    /// With [`DetectSettings::trace`]: every rule that matched, in evaluation order.
    pub trace: Vec<TracedHit>,
    /// The policy default action that dropped the packet (strict order), if one did.
    pub default_drop: Option<DefaultAction>,
    /// Matches that wrote no alert because of `noalert` or a threshold (Suricata's
    /// `detect.alerts_suppressed`).
    pub suppressed: u32,
    /// Alerts not written because the packet already had `packet-alert-max` (Suricata's
    /// `detect.alert_queue_overflow`).
    pub overflow: u32,
}

/// A rule's part in a packet's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HitRole {
    /// The first pass, drop or reject of the packet: it decided.
    Decided,
    /// Matched and applied, without deciding (alert rules, rules with `noalert`, drops
    /// after the deciding one).
    Matched,
    /// Matched, but evaluation had ended: after a pass on the same packet, or on a
    /// later packet of a flow already passed or dropped (see
    /// [`DetectEngine::inspect_shadowed`]).
    Shadowed,
}

/// One matching rule in a traced outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TracedHit {
    pub sig: u32,
    pub tx_id: Option<u64>,
    pub role: HitRole,
    /// An alert was written (not for `noalert`, nor when `threshold` suppressed it).
    pub alerted: bool,
    /// The alert's `alert.action` is `blocked`.
    pub blocked: bool,
    /// A worker thread's alert whose threshold the output merge decides: the
    /// [`ThresholdCheck::seq`] of that decision (the alert may yet be suppressed).
    pub pending_threshold: Option<u64>,
}

/// What a threshold counts by: the signature and the tracked addresses.
type ThresholdKey = (u32, Option<IpAddr>, Option<IpAddr>);

/// One threshold window: alerts counted in it, and its last instant.
#[derive(Clone, Copy, Debug)]
struct Window {
    count: u64,
    /// `tv1 + seconds`: a packet up to this time (to the microsecond, as Suricata's
    /// `SCTIME_CMP_LTE`) falls in the window; a later one starts a new window.
    end: Timestamp,
}

/// A window's last instant: its first alert's time (in microseconds, Suricata's
/// resolution) plus its length.
fn window_end(start: Timestamp, seconds: u64) -> Timestamp {
    Timestamp::new(start.secs(), start.micros() * 1000)
        .plus_secs(u32::try_from(seconds).unwrap_or(u32::MAX))
}

/// Alert suppression state of `threshold` and `detection_filter`.
#[derive(Debug)]
struct Thresholds {
    state: HashMap<ThresholdKey, Window>,
    /// Windows kept at most (`detect.rulesim.threshold-entries`).
    max: usize,
    /// No window ends before this time (a lower bound): a full table is only searched
    /// for ended windows once one may have ended, so a flood of new keys does not cost
    /// a scan of the table each.
    next_end: Timestamp,
    /// Alerts let through untracked because the table was full of live windows.
    untracked: u64,
}

/// Default of [`DetectSettings::threshold_entries`] and [`DetectSettings::xbits_entries`].
pub const DEFAULT_STATE_ENTRIES: usize = 100_000;

/// The `xbits` of hosts (`ip_src`, `ip_dst`) and address pairs (`ip_pair`, either way
/// round), each with the second it expires (Suricata's host and ippair bits).
#[derive(Debug)]
struct XbitStore {
    bits: HashMap<(u32, IpAddr, Option<IpAddr>), i64>,
    /// Bits kept at most (`detect.rulesim.xbits-entries`); expired ones are dropped to
    /// make room, and a bit that still finds none is not set (counted).
    max: usize,
    /// No bit expires before this second (a lower bound), as [`Thresholds::next_end`].
    next_expiry: i64,
    /// Bits not set because the store was full.
    dropped: u64,
}

impl XbitStore {
    fn new(max: usize) -> XbitStore {
        XbitStore {
            bits: HashMap::new(),
            max,
            next_expiry: i64::MAX,
            dropped: 0,
        }
    }

    fn key(op: &signature::XbitOp, src: IpAddr, dst: IpAddr) -> (u32, IpAddr, Option<IpAddr>) {
        use signature::XbitTrack;
        match op.track {
            XbitTrack::Src => (op.bit, src, None),
            XbitTrack::Dst => (op.bit, dst, None),
            XbitTrack::Pair => (op.bit, src.min(dst), Some(src.max(dst))),
        }
    }

    fn is_set(&self, op: &signature::XbitOp, src: IpAddr, dst: IpAddr, now: i64) -> bool {
        // A bit lives through its expiry second (Suricata: expired when expire < now).
        self.bits
            .get(&Self::key(op, src, dst))
            .is_some_and(|&expire| expire >= now)
    }

    fn apply(&mut self, op: &signature::XbitOp, src: IpAddr, dst: IpAddr, now: i64) {
        use signature::XbitCmd;
        let key = Self::key(op, src, dst);
        let expire = now + i64::from(op.expire);
        let set = match op.cmd {
            XbitCmd::Set => true,
            XbitCmd::Unset => {
                self.bits.remove(&key);
                return;
            }
            XbitCmd::Toggle => {
                // Suricata toggles what is stored, expired or not.
                if self.bits.contains_key(&key) {
                    self.bits.remove(&key);
                    return;
                }
                true
            }
            XbitCmd::IsSet | XbitCmd::IsNotSet => false,
        };
        if !set {
            return;
        }
        if self.bits.len() >= self.max && !self.bits.contains_key(&key) {
            // Expired bits make room, searched for only once one may have expired.
            if self.next_expiry < now {
                self.bits.retain(|_, &mut e| e >= now);
                self.next_expiry = self.bits.values().copied().min().unwrap_or(i64::MAX);
            }
            if self.bits.len() >= self.max {
                self.dropped += 1;
                return;
            }
        }
        self.next_expiry = self.next_expiry.min(expire);
        self.bits.insert(key, expire);
    }
}

impl Thresholds {
    fn new(max: usize) -> Thresholds {
        Thresholds {
            state: HashMap::new(),
            max,
            next_end: Timestamp::MAX,
            untracked: 0,
        }
    }

    /// Whether an alert of signature `s` passes its `threshold`, then its
    /// `detection_filter`.
    fn check(&mut self, s: &Signature, c: &ThresholdCheck) -> ThresholdResult {
        self.check_values(c, s.threshold.as_ref(), s.detection_filter.as_ref())
    }

    /// `threshold`, then `detection_filter`: the first that does not say
    /// [`Alert`](ThresholdResult::Alert) decides (`PacketAlertHandle`).
    fn check_values(
        &mut self,
        c: &ThresholdCheck,
        threshold: Option<&ThresholdValue>,
        detection_filter: Option<&ThresholdValue>,
    ) -> ThresholdResult {
        if let Some(t) = threshold {
            let r = self.allows(c.sig, t, false, c.src, c.dst, c.now);
            if r != ThresholdResult::Alert {
                return r;
            }
        }
        match detection_filter {
            Some(t) => self.allows(c.sig, t, true, c.src, c.dst, c.now),
            None => ThresholdResult::Alert,
        }
    }

    /// Whether the match alerts (tests).
    #[cfg(test)]
    fn alerts(
        &mut self,
        sig: u32,
        t: &ThresholdValue,
        df: bool,
        src: IpAddr,
        dst: IpAddr,
        now: Timestamp,
    ) -> bool {
        self.allows(sig, t, df, src, dst, now) == ThresholdResult::Alert
    }

    /// What a match of `sig` on this packet does (`ThresholdHandlePacket`).
    fn allows(
        &mut self,
        sig: u32,
        t: &ThresholdValue,
        df: bool,
        src: IpAddr,
        dst: IpAddr,
        now: Timestamp,
    ) -> ThresholdResult {
        let key = match t.track.as_str() {
            "by_src" => (sig, Some(src), None),
            "by_dst" => (sig, None, Some(dst)),
            "by_both" => (sig, Some(src), Some(dst)),
            _ => (sig, None, None),
        };
        if self.state.len() >= self.max && !self.state.contains_key(&key) {
            // Windows that are over make room (an ended window restarts at its next alert
            // anyway, so dropping it changes nothing); they are searched for only once
            // one may have ended.
            if self.next_end < now {
                self.state.retain(|_, w| w.end >= now);
                self.next_end = self
                    .state
                    .values()
                    .map(|w| w.end)
                    .min()
                    .unwrap_or(Timestamp::MAX);
            }
            if self.state.len() >= self.max {
                self.untracked += 1;
                return ThresholdResult::Alert;
            }
        }
        let fresh = Window {
            count: 0,
            end: window_end(now, t.seconds),
        };
        let e = self.state.entry(key).or_insert(fresh);
        if now > e.end {
            *e = fresh;
        }
        self.next_end = self.next_end.min(e.end);
        e.count += 1;
        let n = e.count;
        use ThresholdResult::{Alert, Nothing, Silent};
        if df {
            return if n > t.count { Alert } else { Nothing };
        }
        match t.kind.as_deref() {
            Some("limit") if n <= t.count => Alert,
            Some("limit") => Silent,
            Some("threshold") if n >= t.count => {
                e.count = 0;
                Alert
            }
            Some("threshold") => Nothing,
            Some("both") if n == t.count => Alert,
            Some("both") if n > t.count => Silent,
            Some("both") => Nothing,
            _ => Alert,
        }
    }
}

/// What `threshold` / `detection_filter` make of a match (Suricata's 1, 2 and 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ThresholdResult {
    /// Alert, and the rule's action applies.
    Alert,
    /// No alert, but the action applies (`limit` and `both` past their count).
    Silent,
    /// Neither alert nor action (`threshold` and `both` before their count,
    /// `detection_filter` until it is passed).
    Nothing,
}

/// Threshold decisions taken away from the rules: `rulesim merge` replays the
/// [`ThresholdCheck`]s of sharded runs, with each rule's `threshold` and
/// `detection_filter` values, in the merged output order.
#[derive(Debug)]
pub struct ThresholdJudge(Thresholds);

impl ThresholdJudge {
    /// A judge keeping at most `entries` threshold windows (the runs' setting).
    pub fn new(entries: usize) -> ThresholdJudge {
        ThresholdJudge(Thresholds::new(entries))
    }

    /// Whether the alert passes `threshold`, then `detection_filter` (counted in the order
    /// this is called).
    pub fn allows(
        &mut self,
        check: &ThresholdCheck,
        threshold: Option<&ThresholdValue>,
        detection_filter: Option<&ThresholdValue>,
    ) -> bool {
        self.0.check_values(check, threshold, detection_filter) == ThresholdResult::Alert
    }
}

/// The compiled ruleset.
pub struct DetectEngine {
    /// The compiled rules, shared by the engines of all worker threads.
    c: Arc<Compiled>,
    thresholds: Thresholds,
    /// `xbits` of hosts and address pairs (state across flows).
    xbits: std::cell::RefCell<XbitStore>,
    /// The time of the packet being inspected (seconds), for bit expiry.
    now: std::cell::Cell<Timestamp>,
    /// Content inspections `detect.inspection-recursion-limit` ended.
    recursion_hits: std::cell::Cell<u64>,
    /// Threshold decisions are left to the output merge (worker threads, which see only
    /// their own flows, while `by_src` and the like count across flows).
    defer_thresholds: bool,
    /// Threshold checks deferred to the output merge so far (numbers them).
    deferred_checks: u64,
    /// Rules that could not be compiled, with why.
    pub errors: Vec<CompileError>,
    work: Work,
    /// Inside [`inspect_shadowed`](Self::inspect_shadowed): hits are only recorded.
    shadow: bool,
    /// Packets whose matches were finalized (numbers [`QueuePlace::packet`]).
    finalized: u64,
}

/// What compiling a ruleset produced; never changed by inspection.
struct Compiled {
    rules: Vec<Rule>,
    sigs: Vec<Signature>,
    /// Signature numbers by phase.
    iponly: Vec<u32>,
    tx: Vec<u32>,
    settings: DetectSettings,
    needs_raw: bool,
    /// The alert signatures of the default actions (sid 2, 4, 6, 8), by action.
    default_alerts: Vec<(DefaultAction, u32)>,
    /// Per signature: `alert.category` and the `metadata` pairs.
    categories: Vec<String>,
    metadata: Vec<Vec<(String, String)>>,
    prefilter: Prefilter,
    /// Flow variable names by id (flowbits; flowints as `flowint:<name>`).
    var_names: Vec<String>,
}

/// Per-packet working memory, reused so that inspection does not allocate.
#[derive(Default)]
struct Work {
    hits: Vec<Hit>,
    candidates: Vec<u32>,
    scratch: Scratch,
    /// Candidates inspected in full.
    inspected: u64,
}

impl DetectEngine {
    pub fn new(ruleset: &RuleSet, vars: &VarTable, settings: DetectSettings) -> DetectEngine {
        Self::from_rules(ruleset.rules.clone(), vars, settings)
    }

    /// As [`new`](Self::new), taking the rules (in load order) without copying them.
    pub fn from_rules(
        mut rules: Vec<Rule>,
        vars: &VarTable,
        settings: DetectSettings,
    ) -> DetectEngine {
        let mut names: HashMap<String, u32> = HashMap::new();
        let mut bit = |n: &str| {
            let next = names.len() as u32;
            *names.entry(n.to_string()).or_insert(next)
        };
        let mut sigs = Vec::new();
        let mut errors = Vec::new();
        let mut resolver = vars.cached();
        for (i, rule) in rules.iter().enumerate() {
            match Signature::compile(i, rule, &mut resolver, &mut bit) {
                Ok(s) => sigs.push(s),
                Err(e) => errors.push(e),
            }
        }
        // base64_decode decodes into one per-thread buffer sized by the largest `bytes`
        // of the ruleset (DetectBase64DecodeSetup, DetectEngineThreadCtxInit).
        let b64_max = sigs
            .iter()
            .flat_map(|s| &s.programs)
            .filter_map(payload::BufferProgram::base64_decode_max)
            .max();
        if let Some(max) = b64_max {
            for p in sigs.iter_mut().flat_map(|s| s.programs.iter_mut()) {
                p.set_base64_dest(max);
            }
        }
        let order = &settings.action_order;
        if settings.strict {
            // Groups were loaded by priority and rules as written: that is the order.
            sigs.sort_by_key(|s| s.rule);
        } else {
            sigs.sort_by(|a, b| {
                order
                    .rank(a.action)
                    .cmp(&order.rank(b.action))
                    .then(a.flowbits_rank().cmp(&b.flowbits_rank()))
                    .then(a.flowint_rank().cmp(&b.flowint_rank()))
                    .then(a.xbits_rank(false).cmp(&b.xbits_rank(false)))
                    .then(a.xbits_rank(true).cmp(&b.xbits_rank(true)))
                    .then(a.priority.cmp(&b.priority))
                    .then(a.sid.cmp(&b.sid))
                    .then(a.gid.cmp(&b.gid))
            });
        }
        let mut default_alerts = Vec::new();
        if settings.strict {
            // AWS logs default-action alerts as these system signatures.
            let sids = settings.default_action_sids;
            for (action, sid, name) in [
                (DefaultAction::AlertStrict, sids[0], "aws:alert_strict"),
                (
                    DefaultAction::AlertEstablished,
                    sids[1],
                    "aws:alert_established",
                ),
                (
                    DefaultAction::AlertEstablishedAppLayer,
                    sids[2],
                    "aws:alert_established_app_layer",
                ),
                (
                    DefaultAction::AlertEstablishedAppLayerToServer,
                    sids[3],
                    "aws:alert_established_app_layer_to_server",
                ),
            ] {
                if !settings.default_actions.contains(&action) {
                    continue;
                }
                // No `rev`: the rule's is 0 (Suricata refuses `rev:0` written out).
                let text =
                    format!("alert ip any any -> any any (msg:\"{name} action\"; sid:{sid};)");
                let rule = match crate::rules::parse_rule(&text, &RuleContext::default()) {
                    Ok(rule) => rule,
                    Err(e) => {
                        errors.push(CompileError::Rule {
                            sid: sid.to_string(),
                            message: e.message,
                        });
                        continue;
                    }
                };
                rules.push(rule);
                let index = rules.len() - 1;
                if let Ok(sig) = Signature::compile(index, &rules[index], &mut resolver, &mut bit) {
                    sigs.push(sig);
                    default_alerts.push((action, sigs.len() as u32 - 1));
                }
            }
        }
        let mut iponly = Vec::new();
        let mut packet = Vec::new();
        let mut tx = Vec::new();
        for (n, s) in sigs.iter().enumerate() {
            if default_alerts.iter().any(|&(_, d)| d as usize == n) {
                continue;
            }
            match s.kind {
                SigKind::IpOnly => iponly.push(n as u32),
                SigKind::Tx => tx.push(n as u32),
                _ => packet.push(n as u32),
            }
        }
        let needs_raw = sigs
            .iter()
            .any(|s| matches!(s.kind, SigKind::Stream | SigKind::PacketStream));
        let classes = crate::rules::Classifications::default();
        let categories = sigs
            .iter()
            .map(|s| {
                let r = &rules[s.rule];
                r.classtype
                    .as_deref()
                    .and_then(|c| classes.get(c))
                    .map_or(String::new(), |c| c.description.clone())
            })
            .collect();
        let metadata = sigs
            .iter()
            .map(|s| metadata_pairs(&rules[s.rule]))
            .collect();
        let prefilter = if settings.prefilter_off {
            Prefilter::none(&sigs, &iponly, &packet, &tx)
        } else {
            Prefilter::build(&sigs, &iponly, &packet, &tx)
        };
        let mut var_names = vec![String::new(); names.len()];
        for (name, id) in names {
            if let Some(slot) = var_names.get_mut(id as usize) {
                *slot = name;
            }
        }
        let work = Work {
            scratch: prefilter.scratch(),
            ..Work::default()
        };
        let state_entries = (settings.threshold_entries, settings.xbits_entries);
        DetectEngine {
            c: Arc::new(Compiled {
                var_names,
                prefilter,
                categories,
                metadata,
                default_alerts,
                rules,
                sigs,
                iponly,
                tx,
                settings,
                needs_raw,
            }),
            work,
            thresholds: Thresholds::new(state_entries.0),
            xbits: std::cell::RefCell::new(XbitStore::new(state_entries.1)),
            now: Default::default(),
            recursion_hits: Default::default(),
            defer_thresholds: false,
            deferred_checks: 0,
            errors,
            shadow: false,
            finalized: 0,
        }
    }

    /// An engine for a worker thread: the same compiled rules, its own working memory,
    /// and threshold decisions deferred to the output merge (see [`ThresholdCheck`]).
    pub fn for_worker(&self) -> DetectEngine {
        DetectEngine {
            c: Arc::clone(&self.c),
            work: Work {
                scratch: self.c.prefilter.scratch(),
                ..Work::default()
            },
            thresholds: Thresholds::new(self.c.settings.threshold_entries),
            xbits: std::cell::RefCell::new(XbitStore::new(self.c.settings.xbits_entries)),
            now: Default::default(),
            recursion_hits: Default::default(),
            defer_thresholds: true,
            deferred_checks: 0,
            errors: Vec::new(),
            shadow: false,
            finalized: 0,
        }
    }

    /// Whether the ruleset must run on one worker: some rule keeps `xbits` (state of
    /// hosts and address pairs), or a rule whose action is not a mere alert has a
    /// `threshold` or `detection_filter` (whether its drop or pass applies depends on
    /// counts across flows, which worker threads split).
    pub fn needs_one_worker(&self) -> bool {
        self.has_xbits()
            || self.c.sigs.iter().any(|s| {
                (s.threshold.is_some() || s.detection_filter.is_some()) && s.action != Action::Alert
            })
    }

    /// Whether some rule keeps `xbits`, state shared by flows that worker threads would
    /// split (such rulesets run on one worker).
    pub fn has_xbits(&self) -> bool {
        self.c.sigs.iter().any(|s| !s.xbits.is_empty())
    }

    /// `xbits` not set because the store was full.
    pub fn xbits_dropped(&self) -> u64 {
        self.xbits.borrow().dropped
    }

    /// Alerts let through untracked because the threshold table was full.
    pub fn thresholds_untracked(&self) -> u64 {
        self.thresholds.untracked
    }

    /// Whether an alert passes its rule's `threshold`, then its `detection_filter`
    /// (counted in the order this is called, which must be the order alerts are written).
    pub fn threshold_allows(&mut self, check: &ThresholdCheck) -> bool {
        self.thresholds
            .check(&self.c.sigs[check.sig as usize], check)
            == ThresholdResult::Alert
    }

    /// The `threshold` and `detection_filter` of the rule a check is for.
    pub fn threshold_values(
        &self,
        check: &ThresholdCheck,
    ) -> (Option<&ThresholdValue>, Option<&ThresholdValue>) {
        match self.c.sigs.get(check.sig as usize) {
            Some(s) => (s.threshold.as_ref(), s.detection_filter.as_ref()),
            None => (None, None),
        }
    }

    /// Signatures inspected in full so far (the prefilter's candidates).
    pub fn inspected(&self) -> u64 {
        self.work.inspected
    }

    /// How the prefilter groups the signatures.
    pub fn prefilter_summary(&self) -> PrefilterSummary {
        PrefilterSummary {
            iponly: self.c.iponly.len(),
            ..self.c.prefilter.summary()
        }
    }

    /// Whether any rule inspects transactions.
    pub fn has_tx_rules(&self) -> bool {
        !self.c.tx.is_empty()
    }

    /// Whether any rule inspects the reassembled stream.
    pub fn needs_raw(&self) -> bool {
        self.c.needs_raw
    }

    pub fn settings(&self) -> &DetectSettings {
        &self.c.settings
    }

    pub fn signature(&self, n: u32) -> &Signature {
        &self.c.sigs[n as usize]
    }

    /// Signatures compiled (numbered from 0).
    pub fn signature_count(&self) -> u32 {
        self.c.sigs.len() as u32
    }

    /// The rule a signature was compiled from.
    pub fn rule_of(&self, n: u32) -> &Rule {
        &self.c.rules[self.c.sigs[n as usize].rule]
    }

    /// No rule and no default action: nothing to evaluate.
    pub fn is_empty(&self) -> bool {
        self.c.sigs.is_empty() && self.c.settings.default_actions.is_empty()
    }

    /// `alert.category`: the classtype's description, or empty.
    pub fn category_of(&self, n: u32) -> &str {
        &self.c.categories[n as usize]
    }

    /// The rule's `metadata` as (key, value) pairs in rule order.
    pub fn metadata_of(&self, n: u32) -> &[(String, String)] {
        &self.c.metadata[n as usize]
    }

    /// What detection would find on a packet of a flow whose fate is already decided
    /// (detection is over for it): the rules the decision shadows, for `explain`.
    /// `shadow` is a copy of the flow's detection state taken before the decision, with
    /// no action, which this call advances (flowbits, transaction progress); thresholds,
    /// counters and default actions are left alone.
    pub fn inspect_shadowed(
        &mut self,
        p: &PacketView<'_>,
        shadow: &mut FlowDetect,
        app: &FlowApp,
        now: Timestamp,
    ) -> Vec<TracedHit> {
        let (inspected, recursion_hits) = (self.work.inspected, self.recursion_hits.get());
        self.shadow = true;
        shadow.action = None;
        let out = self.inspect(p, Some((shadow, app)), now);
        self.shadow = false;
        self.work.inspected = inspected;
        self.recursion_hits.set(recursion_hits);
        out.trace
    }

    /// The flow's variables as Suricata's records show them (`EveAddFlowVars`): flowbits
    /// in the order they were set, flowints in the order they were created, the
    /// `traffic/id/` and `traffic/label/` flowbits apart; `None` when the flow has none.
    pub fn flow_vars(&self, fd: &FlowDetect) -> Option<crate::output::FlowVars> {
        let more = fd.more.as_ref()?;
        if more.bits.is_empty() && more.ints.is_empty() {
            return None;
        }
        let name = |id: u32| self.c.var_names.get(id as usize).map_or("", String::as_str);
        let mut vars = crate::output::FlowVars::default();
        for &b in &more.bits {
            let n = name(b);
            if let Some(id) = n.strip_prefix("traffic/id/") {
                vars.traffic_id.push(id.to_string());
            } else if let Some(label) = n.strip_prefix("traffic/label/") {
                vars.traffic_label.push(label.to_string());
            } else {
                vars.flowbits.push(n.to_string());
            }
        }
        for &(var, value) in &more.ints {
            let n = name(var);
            vars.flowints
                .push((n.strip_prefix("flowint:").unwrap_or(n).to_string(), value));
        }
        Some(vars)
    }

    /// Runs detection on one packet. `flow` is `None` for packets without a flow.
    pub fn inspect(
        &mut self,
        p: &PacketView<'_>,
        mut flow: Option<(&mut FlowDetect, &FlowApp)>,
        now: Timestamp,
    ) -> PacketOutcome {
        let mut work = std::mem::take(&mut self.work);
        work.hits.clear();
        self.now.set(now);
        let dir = p.to_server.map(|ts| usize::from(!ts));
        if let Some((fd, _)) = flow.as_mut() {
            fd.app_updated[0] |= p.app_parsed[0];
            fd.app_updated[1] |= p.app_parsed[1];
        }
        // Phase 1: IP-only rules on the first packet of each direction.
        let first = match (&flow, dir) {
            (Some((fd, _)), Some(d)) => !fd.iponly_done[d],
            _ => true,
        };
        if first && !p.pseudo {
            if let (Some((fd, _)), Some(d)) = (flow.as_mut(), dir) {
                fd.iponly_done[d] = true;
            }
            self.c.prefilter.iponly_candidates(
                &mut work.scratch,
                (p.src, p.dst, p.sp, p.dp, p.proto),
                &mut work.candidates,
            );
            work.inspected += work.candidates.len() as u64;
            for &n in &work.candidates {
                let s = &self.c.sigs[n as usize];
                if self.header_matches(s, p)
                    && self.options_match(s, p, flow.as_ref().map(|(f, a)| (&**f, *a)))
                {
                    if let Some((fd, _)) = flow.as_mut() {
                        apply_bits(s, fd);
                    }
                    self.apply_xbits(s, p);
                    work.hits.push(Hit {
                        sig: n,
                        flow_scoped: true,
                        tx_id: None,
                        tx_guessed: false,
                    });
                }
            }
        }
        // Phase 2: packet, stream, app-layer and protocol-detection rules.
        self.c
            .prefilter
            .packet_candidates(&mut work.scratch, p, &mut work.candidates);
        work.inspected += work.candidates.len() as u64;
        for &n in &work.candidates {
            let s = &self.c.sigs[n as usize];
            if p.pseudo && s.kind == SigKind::ProtoDetect {
                continue;
            }
            if !self.header_matches(s, p) {
                continue;
            }
            let view = flow.as_ref().map(|(f, a)| (&**f, *a));
            if !self.options_match(s, p, view) {
                continue;
            }
            let mut stream_match = false;
            let flow_scoped = match s.kind {
                SigKind::ProtoDetect => {
                    let (Some((fd, app)), Some(d)) = (flow.as_ref(), dir) else {
                        continue;
                    };
                    if fd.pd_done[d] || app.proto == AppProto::Unknown {
                        continue;
                    }
                    true
                }
                SigKind::AppLayer | SigKind::LikeIpOnly => true,
                SigKind::Packet => {
                    let has_payload = s.programs.iter().any(|p| p.buffer().is_none());
                    if has_payload && !self.packet_payload_matches(s, p.inspected_payload()) {
                        continue;
                    }
                    false
                }
                SigKind::Stream | SigKind::PacketStream => {
                    let on_stream = p.inspected_raw().is_some_and(|raw| {
                        !s.flow.no_stream && self.packet_payload_matches(s, raw)
                    });
                    if on_stream {
                        stream_match = true;
                        true
                    } else {
                        let packet_ok = !s.tcp_stream
                            && !s.flow.only_stream
                            && (s.kind == SigKind::PacketStream || !p.in_stream)
                            && self.packet_payload_matches(s, p.inspected_payload());
                        if !packet_ok {
                            continue;
                        }
                        false
                    }
                }
                SigKind::IpOnly | SigKind::Tx => continue,
            };
            if let Some((fd, _)) = flow.as_mut() {
                apply_bits(s, fd);
            }
            self.apply_xbits(s, p);
            let (tx_id, tx_guessed) = match (&flow, dir) {
                (Some((fd, app)), Some(d)) => Self::guessed_tx(
                    s,
                    fd,
                    app,
                    d,
                    p,
                    stream_match,
                    self.c.settings.guess_applayer_tx,
                ),
                _ => (None, false),
            };
            work.hits.push(Hit {
                sig: n,
                flow_scoped,
                tx_id,
                tx_guessed,
            });
        }
        if let (Some((fd, app)), Some(d)) = (flow.as_mut(), dir) {
            if app.proto != AppProto::Unknown && !p.pseudo {
                fd.pd_done[d] = true;
            }
        }
        // Phase 3: transactions. Suricata's `DetectRun` skips them on a TCP packet that
        // did not update the app layer, unless its direction's bytes were parsed since
        // that direction's last packet: in IPS mode a side's transaction rules therefore
        // wait for that side's next packet that carries data, or for parsing of its own
        // bytes (confirmed on 7.0.10, tests/tls_certs.rs).
        if let (Some((fd, app)), Some(to_server)) = (flow.as_mut(), p.to_server) {
            let d = usize::from(!to_server);
            let run = self.shadow
                || p.proto != 6
                || p.pseudo
                || p.app_parsed.contains(&true)
                || fd.app_updated[d];
            if !self.shadow {
                fd.app_updated[d] = false;
            }
            if run && !self.c.tx.is_empty() {
                self.inspect_transactions(p, to_server, fd, app, &mut work);
            } else if run {
                // Without transaction rules the direction's inspect id still moves past
                // the transactions complete in it (`AppLayerParserSetTransactionInspectId`):
                // the transaction a stream match is given (`guessed_tx`) depends on it.
                advance_inspect_id(fd, app, usize::from(!to_server));
            }
        }
        let app_decided = flow.as_ref().is_some_and(|(_, a)| a.client_message_seen());
        let fd = flow.map(|(f, _)| f);
        let outcome = self.finalize(&mut work.hits, p, fd, now, app_decided);
        self.work = work;
        outcome
    }

    /// The transaction Suricata attaches to a packet-phase match (`DetectRulePacketRules`):
    /// when the flow has app-layer state and the rule matched the reassembled stream, or is
    /// a UDP rule of an app-layer protocol, the direction's first transaction not yet
    /// inspected for good; `tx_guessed` on TCP. Otherwise none (and the alert carries no
    /// app-layer object).
    fn guessed_tx(
        s: &Signature,
        fd: &FlowDetect,
        app: &FlowApp,
        d: usize,
        p: &PacketView<'_>,
        stream_match: bool,
        guess_applayer_tx: bool,
    ) -> (Option<u64>, bool) {
        let has_state = matches!(app.proto, AppProto::Known(_));
        if !has_state {
            return (None, false);
        }
        let id = fd.more.as_ref().map_or(0, |m| m.inspect_id[d]);
        let udp_app_rule = p.proto == 17 && s.app_proto.is_some();
        // `detect.guess-applayer-tx`: a packet match on a flow with one live transaction
        // is given it too.
        let only_tx = guess_applayer_tx && app.tx_count() == id + 1;
        if !(stream_match || udp_app_rule || only_tx) {
            return (None, false);
        }
        if p.proto == 17 {
            // The first transaction of the packet's direction: a DNS response is a
            // transaction of its own, which a query's inspect id has not passed yet in
            // Suricata's to-client direction (its query transaction is never inspected
            // there).
            let own = buffers::transactions(&app.parser, id).find(|tx| tx.ready[d]);
            return (Some(own.map_or(id, |tx| tx.id)), false);
        }
        (Some(id), true)
    }

    fn inspect_transactions(
        &self,
        p: &PacketView<'_>,
        to_server: bool,
        fd: &mut FlowDetect,
        app: &FlowApp,
        work: &mut Work,
    ) {
        let Work {
            hits,
            candidates,
            scratch,
            inspected,
        } = work;
        let d = usize::from(!to_server);
        let AppProto::Known(proto) = app.proto else {
            return;
        };
        let from = fd.more.as_ref().map_or(0, |m| m.inspect_id[d]);
        let mut all_complete_before = true;
        for tx in buffers::transactions(&app.parser, from) {
            let tx = &tx;
            if !tx.ready[d] {
                // Nothing of it in this direction. Complete there all the same (a DNS
                // query's transaction to the client), it does not hold the inspect id
                // back, as Suricata skips its inspection in that direction.
                if all_complete_before && tx.complete[d] {
                    fd.more().inspect_id[d] = tx.id + 1;
                } else {
                    all_complete_before = false;
                }
                continue;
            }
            let memo = &mut fd.more().tx_memo[d];
            self.c.prefilter.tx_candidates(
                scratch,
                tx,
                to_server,
                app.generation,
                memo,
                candidates,
            );
            *inspected += candidates.len() as u64;
            for &n in candidates.iter() {
                let s = &self.c.sigs[n as usize];
                if !s.tx_dirs[d]
                    || fd
                        .more
                        .as_ref()
                        .is_some_and(|m| m.tx_done.contains(&(n, tx.id, d as u8)))
                {
                    continue;
                }
                if !app_proto_matches(s.app_proto.as_deref(), proto) {
                    continue;
                }
                if !self.header_matches(s, p) || !self.options_match(s, p, Some((fd, app))) {
                    continue;
                }
                if self.tx_matches(s, tx, to_server, &app.parser, p) {
                    apply_bits(s, fd);
                    self.apply_xbits(s, p);
                    fd.more().tx_done.insert((n, tx.id, d as u8));
                    hits.push(Hit {
                        sig: n,
                        flow_scoped: true,
                        tx_id: Some(tx.id),
                        tx_guessed: false,
                    });
                } else if tx.complete[d] {
                    fd.more().tx_done.insert((n, tx.id, d as u8));
                }
            }
            if all_complete_before && tx.complete[d] {
                fd.more().inspect_id[d] = tx.id + 1;
            } else {
                all_complete_before = false;
            }
        }
        if let Some(m) = fd.more.as_mut() {
            let below = m.inspect_id[0].min(m.inspect_id[1]);
            // Amortised: a scan only once the set doubled since the last one.
            if below > m.tx_done_from && m.tx_done.len() > 2 * m.tx_done_pruned + 64 {
                m.tx_done.retain(|&(_, id, _)| id >= below);
                m.tx_done_from = below;
                m.tx_done_pruned = m.tx_done.len();
            }
        }
    }

    fn tx_matches(
        &self,
        s: &Signature,
        tx: &buffers::TxView<'_>,
        to_server: bool,
        parser: &Parser,
        p: &PacketView<'_>,
    ) -> bool {
        if !s.ssl_state.is_empty() || s.ssl_version.is_some() || s.tls_version.is_some() {
            let Parser::Tls(t) = parser else {
                return false;
            };
            if !s.ssl_state.is_empty() && !ssl_state_matches(&s.ssl_state, t.current_flags) {
                return false;
            }
            if let Some(v) = &s.ssl_version {
                // DetectSslVersionMatch: the side's own version (the client's to the
                // server, the server's to the client), TLS 1.3 drafts counted as 1.3.
                let version = t.conn_version[usize::from(!to_server)];
                let name = match version {
                    0x0002 | 0x0200 => "sslv2",
                    0x0300 => "sslv3",
                    0x0301 => "tls1.0",
                    0x0302 => "tls1.1",
                    0x0303 => "tls1.2",
                    0x0304 | 0x7f01..=0x7f1c => "tls1.3",
                    _ => "",
                };
                // Suricata XORs the version's own slot with that slot's negation flag: a
                // listed version gives 1 ^ 1, an unlisted one 0 ^ 0, so a negated
                // ssl_version never matches (confirmed on 7.0.10).
                if v.negated || !v.versions.contains(&name) {
                    return false;
                }
            }
            if let Some(want) = s.tls_version {
                let have = t.server_hello.as_ref().map(|h| h.version);
                if have != Some(want) {
                    return false;
                }
            }
        }
        for prog in &s.programs {
            let Some(name) = prog.buffer() else {
                // Payload keywords of a transaction rule look at the stream (or the packet).
                let data = p.inspected_raw().unwrap_or(p.inspected_payload());
                if data.is_empty() || !self.run_program(prog, data) {
                    return false;
                }
                continue;
            };
            if !self.c.settings.ips
                && buffers::body_deferred(tx.tx, name, p.pseudo, self.c.settings.body_inspect_min)
            {
                return false;
            }
            if !buffers::any_instance(tx.tx, name, to_server, &mut |b| self.run_program(prog, b)) {
                return false;
            }
        }
        true
    }

    /// A buffer program on a buffer, within the recursion limit (counted when reached).
    fn run_program(&self, prog: &payload::BufferProgram, data: &[u8]) -> bool {
        prog.inspect_counted(data, self.c.settings.recursion_limit, &self.recursion_hits)
    }

    /// Content inspections the recursion limit ended.
    pub fn recursion_limit_hits(&self) -> u64 {
        self.recursion_hits.get()
    }

    fn packet_payload_matches(&self, s: &Signature, data: &[u8]) -> bool {
        let mut any = false;
        for prog in s.programs.iter().filter(|p| p.buffer().is_none()) {
            any = true;
            if data.is_empty() || !self.run_program(prog, data) {
                return false;
            }
        }
        any
    }

    fn header_matches(&self, s: &Signature, p: &PacketView<'_>) -> bool {
        let proto_ok = match s.proto {
            ProtoMatch::Any => true,
            ProtoMatch::Ip(n) => p.proto == n,
            ProtoMatch::Icmp => p.proto == 1 || p.proto == 58,
            ProtoMatch::TcpOrUdp => p.proto == 6 || p.proto == 17,
        };
        if !proto_ok {
            return false;
        }
        let ports = matches!(p.proto, 6 | 17 | 132);
        let fwd = s.src.contains(p.src)
            && s.dst.contains(p.dst)
            && (!ports || (s.sp.contains(p.sp) && s.dp.contains(p.dp)));
        if fwd {
            return true;
        }
        s.bidirectional
            && s.src.contains(p.dst)
            && s.dst.contains(p.src)
            && (!ports || (s.sp.contains(p.dp) && s.dp.contains(p.sp)))
    }

    /// Everything but the payload and transaction buffers.
    /// A matched signature's `xbits` set, unset and toggle (Suricata's post-match list).
    fn apply_xbits(&self, s: &Signature, p: &PacketView<'_>) {
        if s.xbits.is_empty() || self.shadow {
            return;
        }
        let now = self.now.get().secs();
        let mut store = self.xbits.borrow_mut();
        for op in &s.xbits {
            store.apply(op, p.src, p.dst, now);
        }
    }

    fn options_match(
        &self,
        s: &Signature,
        p: &PacketView<'_>,
        flow: Option<(&FlowDetect, &FlowApp)>,
    ) -> bool {
        if let Some(proto) = &s.app_proto {
            match flow.map(|(_, a)| a.proto) {
                Some(AppProto::Known(have)) if app_proto_matches(Some(proto), have) => {}
                _ => return false,
            }
        }
        let f = &s.flow;
        if f.to_server && p.to_server != Some(true) {
            return false;
        }
        if f.to_client && p.to_server != Some(false) {
            return false;
        }
        if f.established && !p.established {
            return false;
        }
        if f.not_established && p.established {
            return false;
        }
        if f.only_frag && !p.fragment {
            return false;
        }
        if f.no_frag && p.fragment {
            return false;
        }
        if let Some(t) = &s.dsize {
            if p.pseudo || !num_test(t, p.payload.len() as u64) {
                return false;
            }
            // Suricata's signature masks (PacketCreateMask, detect-engine-build.c): a
            // packet "has payload" when it carries inspectable payload or reassembled
            // stream data is ready with it. A size that needs payload requires that; a
            // size of exactly 0 requires its absence, so an empty ACK that releases
            // stream data is not `dsize:0`.
            let has_payload = !p.inspected_payload().is_empty()
                || p.inspected_raw().is_some_and(|r| !r.is_empty());
            let fits_mask = match *t {
                NumTest::Gt(_) | NumTest::Ge(_) | NumTest::Between(..) | NumTest::Ne(_) => {
                    has_payload
                }
                NumTest::Eq(0) => !has_payload,
                NumTest::Eq(_) => has_payload,
                NumTest::Lt(_) | NumTest::Le(_) => true,
            };
            if !fits_mask {
                return false;
            }
        }
        if !s.header.iter().all(|t| t.matches(&p.header)) {
            return false;
        }
        if !s.flowint.is_empty() && !flowint_checks(s, flow.map(|(f, _)| f)) {
            return false;
        }
        if !s.xbits.is_empty() {
            let store = self.xbits.borrow();
            let now = self.now.get().secs();
            for op in &s.xbits {
                let want = match op.cmd {
                    signature::XbitCmd::IsSet => true,
                    signature::XbitCmd::IsNotSet => false,
                    _ => continue,
                };
                if store.is_set(op, p.src, p.dst, now) != want {
                    return false;
                }
            }
        }
        if s.itype.is_some() || s.icode.is_some() {
            let Some((ty, code)) = p.icmp else {
                return false;
            };
            if s.itype
                .as_ref()
                .is_some_and(|t| !num_test(t, u64::from(ty)))
            {
                return false;
            }
            if s.icode
                .as_ref()
                .is_some_and(|t| !num_test(t, u64::from(code)))
            {
                return false;
            }
        }
        if let Some(t) = &s.ip_proto {
            if !num_test(t, u64::from(p.proto)) {
                return false;
            }
        }
        for alp in &s.app_layer_protocol {
            let have = flow.map_or("unknown", |(_, a)| a.proto.name());
            // Suricata waits for detection before testing either way.
            if have == "unknown" {
                return false;
            }
            let want = alp.protocol.as_str();
            let same = have == want || (want == "http" && have == "http1");
            if same == alp.negated {
                return false;
            }
        }
        let bits: &[u32] = flow.map_or(&[], |(f, _)| f.bits());
        for op in &s.flowbits {
            match op {
                FlowbitOp::IsSet(ids) if !ids.iter().any(|i| bits.contains(i)) => return false,
                FlowbitOp::IsNotSet(ids) if !ids.iter().any(|i| !bits.contains(i)) => return false,
                _ => {}
            }
        }
        true
    }

    /// Orders the matches and applies them, as Suricata 7.0.10's `PacketAlertFinalize`:
    /// the matches are sorted by signature order (a signature matching several
    /// transactions: the newest first, then without transaction) and walked. Each match
    /// applies its action. It is then "suppressed" when `noalert` (a pass rule without
    /// `alert` aside) or a threshold keeps its alert from being written; otherwise it
    /// takes one of the packet's `packet-alert-max` places and a pass ends the walk (a
    /// pass without `alert` takes none). Once the places are taken, later matches are
    /// counted as overflow and the walk goes on: their actions still apply, a pass
    /// included, which then does not end the walk (confirmed on 7.0.10).
    fn finalize(
        &mut self,
        hits: &mut Vec<Hit>,
        p: &PacketView<'_>,
        mut fd: Option<&mut FlowDetect>,
        now: Timestamp,
        app_decided: bool,
    ) -> PacketOutcome {
        let mut out = PacketOutcome::default();
        // AlertQueueSortHelper: by signature number, then the highest transaction id
        // first, alerts without a transaction last.
        hits.sort_by_key(|h| {
            (
                h.sig,
                h.tx_id.is_none(),
                std::cmp::Reverse(h.tx_id.unwrap_or(0)),
            )
        });
        hits.dedup_by_key(|h| (h.sig, h.tx_id));
        if self.shadow {
            out.trace = hits
                .iter()
                .map(|h| TracedHit {
                    sig: h.sig,
                    tx_id: h.tx_id,
                    role: HitRole::Shadowed,
                    alerted: false,
                    blocked: false,
                    pending_threshold: None,
                })
                .collect();
            return out;
        }
        self.finalized += 1;
        let max = usize::from(self.c.settings.packet_alert_max);
        // Places taken by alerts known to be written, and by alerts whose threshold the
        // output merge decides (worker threads): the packet's count lies between.
        let (mut kept, mut pending) = (0usize, 0usize);
        let trace = self.c.settings.trace;
        for (at, &h) in hits.iter().enumerate() {
            let s = &self.c.sigs[h.sig as usize];
            let mut alert = s.alerts;
            let mut threshold = None;
            // Whether the rule's action applies, and whether the threshold silenced it.
            let (mut applies, mut silent) = (true, false);
            if s.threshold.is_some() || s.detection_filter.is_some() {
                let mut check = ThresholdCheck {
                    sig: h.sig,
                    src: p.src,
                    dst: p.dst,
                    now,
                    seq: 0,
                };
                if self.defer_thresholds {
                    // Worker threads see only alert rules with thresholds (a ruleset with
                    // a threshold on another action runs on one worker).
                    if alert {
                        self.deferred_checks += 1;
                        check.seq = self.deferred_checks;
                        threshold = Some(check);
                    }
                } else {
                    let r = self.thresholds.check(s, &check);
                    alert &= r == ThresholdResult::Alert;
                    applies = r != ThresholdResult::Nothing;
                    silent = r == ThresholdResult::Silent;
                }
            }
            let blocks = applies
                && matches!(
                    s.action,
                    Action::Drop
                        | Action::Reject
                        | Action::RejectSrc
                        | Action::RejectDst
                        | Action::RejectBoth
                );
            if blocks {
                out.drop = true;
                if s.action != Action::Drop && out.reject.is_none() {
                    out.reject = Some(s.action);
                }
                if h.flow_scoped {
                    if let Some(f) = fd.as_deref_mut() {
                        f.action.get_or_insert(FlowAction::Drop);
                    }
                }
            }
            let pass = applies && s.action == Action::Pass;
            if pass {
                out.pass = true;
                if h.flow_scoped {
                    if let Some(f) = fd.as_deref_mut() {
                        f.action.get_or_insert(FlowAction::Pass);
                    }
                }
            }
            // Suricata's alert queue: suppressed, a place, or overflow.
            // A pass the threshold silenced applies, but takes no place and does not end
            // the walk (Suricata counts it suppressed).
            let silent_pass = pass && !s.alerts && !silent;
            let suppressed = !alert && !silent_pass;
            // An alert awaiting a threshold decision goes to the merge even when the
            // queue looks full: its threshold still counts there (as one thread counts
            // it before the queue refuses it), and the merge refuses its place.
            let overflow = !suppressed && kept >= max && threshold.is_none();
            let written = !suppressed && !overflow && !silent_pass;
            if suppressed {
                out.suppressed += 1;
            } else if overflow {
                out.overflow += 1;
            }
            let blocked = written && blocks && (self.c.settings.ips || s.action != Action::Drop);
            if trace {
                let decides = pass || blocks;
                let decided_before = out.trace.iter().any(|t| t.role == HitRole::Decided);
                let role = if decides && !decided_before {
                    HitRole::Decided
                } else {
                    HitRole::Matched
                };
                out.trace.push(TracedHit {
                    sig: h.sig,
                    tx_id: h.tx_id,
                    role,
                    alerted: written,
                    blocked,
                    pending_threshold: threshold.map(|c: ThresholdCheck| c.seq),
                });
            }
            if written {
                out.alerts.push(AlertHit {
                    sig: h.sig,
                    tx_id: h.tx_id,
                    tx_guessed: h.tx_guessed,
                    blocked,
                    threshold,
                    queue: None,
                });
                if threshold.is_some() {
                    pending += 1;
                } else {
                    kept += 1;
                }
                if let Some(f) = fd.as_deref_mut() {
                    f.alerted = true;
                }
            }
            // A pass that took its place (or needed none) ends the walk. With alerts
            // awaiting a threshold decision the count is not known here: they are taken
            // as suppressed, and the merge drops what is then over the limit.
            if pass && !suppressed && !overflow {
                if trace {
                    // Suricata stops at a pass: the rest matched but were never applied.
                    out.trace.extend(hits[at + 1..].iter().map(|h| TracedHit {
                        sig: h.sig,
                        tx_id: h.tx_id,
                        role: HitRole::Shadowed,
                        alerted: false,
                        blocked: false,
                        pending_threshold: None,
                    }));
                }
                break;
            }
        }
        if self.c.settings.strict && !out.pass && !out.drop && !p.pseudo {
            self.apply_defaults(p, fd, app_decided, kept, &mut out);
        }
        if pending > 0 && out.alerts.len() > max {
            let place = QueuePlace {
                packet: self.finalized,
                max: self.c.settings.packet_alert_max,
            };
            for a in &mut out.alerts {
                a.queue = Some(place);
            }
        }
        out
    }

    /// AWS stateful default actions, for a packet no pass, drop or reject rule decided.
    /// "Established" is Suricata's (`flow:established`); the application-layer variants
    /// wait, approximately, until the application layer has the client's first message
    /// (a ClientHello split over several segments is then whole, as AWS describes them).
    fn apply_defaults(
        &self,
        p: &PacketView<'_>,
        mut fd: Option<&mut FlowDetect>,
        app_decided: bool,
        mut kept: usize,
        out: &mut PacketOutcome,
    ) {
        use DefaultAction as D;
        let to_server = p.to_server != Some(false);
        let applies = |a: D| match a {
            D::DropStrict | D::AlertStrict => true,
            D::DropEstablished | D::AlertEstablished => p.established,
            D::DropEstablishedAppLayer | D::AlertEstablishedAppLayer => {
                p.established && app_decided
            }
            D::DropEstablishedAppLayerToServer | D::AlertEstablishedAppLayerToServer => {
                p.established && app_decided && to_server
            }
        };
        let default_drop = self
            .c
            .settings
            .default_actions
            .iter()
            .copied()
            .find(|&a| a.is_drop() && applies(a));
        let drops = default_drop.is_some();
        if drops {
            out.drop = true;
            out.default_drop = default_drop;
        }
        for &(action, sig) in &self.c.default_alerts {
            if applies(action) {
                // AWS's default actions are rules of their own, last in the queue: they
                // take places after the packet's other alerts.
                if kept >= usize::from(self.c.settings.packet_alert_max) {
                    out.overflow += 1;
                    continue;
                }
                kept += 1;
                let blocked = drops && self.c.settings.ips;
                if self.c.settings.trace {
                    out.trace.push(TracedHit {
                        sig,
                        tx_id: None,
                        role: HitRole::Matched,
                        alerted: true,
                        blocked,
                        pending_threshold: None,
                    });
                }
                out.alerts.push(AlertHit {
                    sig,
                    tx_id: None,
                    tx_guessed: false,
                    blocked,
                    threshold: None,
                    queue: None,
                });
                if let Some(f) = fd.as_deref_mut() {
                    f.alerted = true;
                }
            }
        }
    }
}

fn app_proto_matches(want: Option<&str>, have: &str) -> bool {
    match want {
        None => true,
        Some(w) => {
            w == have || (w == "http" && have == "http1") || (w == "http1" && have == "http")
        }
    }
}

fn ssl_state_matches(states: &[crate::rules::detection::SslState], current: u8) -> bool {
    let flag = |name: &str| match name {
        "client_hello" => ssl_flags::CLIENT_HELLO,
        "server_hello" => ssl_flags::SERVER_HELLO,
        "client_keyx" => ssl_flags::CLIENT_KEYX,
        "server_keyx" => ssl_flags::SERVER_KEYX,
        _ => ssl_flags::UNKNOWN,
    };
    // Suricata: the listed (OR) flags must intersect the current ones; negated flags
    // must all be absent.
    let mut want = 0u8;
    let mut not = 0u8;
    for s in states {
        if s.negated {
            not |= flag(s.state);
        } else {
            want |= flag(s.state);
        }
    }
    (want == 0 || current & want != 0) && current & not == 0
}

/// A signature's `flowint` checks on the flow's integers (no flow: no match). A variable
/// compared must be set; another variable it is compared with counts 0 when unset.
fn flowint_checks(s: &Signature, fd: Option<&FlowDetect>) -> bool {
    use signature::{FlowintCmd as C, FlowintTarget as T};
    let Some(fd) = fd else {
        return false;
    };
    let ints: &[(u32, u32)] = fd.more.as_ref().map_or(&[], |m| &m.ints);
    let get = |var: u32| ints.iter().find(|(v, _)| *v == var).map(|&(_, x)| x);
    s.flowint.iter().filter(|o| !o.cmd.modifies()).all(|o| {
        let target = match o.target {
            T::Value(v) => v,
            T::Var(var) => get(var).unwrap_or(0),
            T::None => 0,
        };
        match (o.cmd, get(o.var)) {
            (C::IsSet, v) => v.is_some(),
            (C::IsNotSet, v) => v.is_none(),
            (_, None) => false,
            (C::Eq, Some(v)) => v == target,
            (C::Ne, Some(v)) => v != target,
            (C::Lt, Some(v)) => v < target,
            (C::Le, Some(v)) => v <= target,
            (C::Gt, Some(v)) => v > target,
            (C::Ge, Some(v)) => v >= target,
            (C::Set | C::Add | C::Sub, Some(_)) => true,
        }
    })
}

/// A matched signature's `flowint` `=`, `+`, `-` (32-bit, wrapping as Suricata's
/// unsigned arithmetic; `+` on an unset variable sets it, `-` on one does nothing).
fn apply_flowint(s: &Signature, fd: &mut FlowDetect) {
    use signature::{FlowintCmd as C, FlowintTarget as T};
    for o in s.flowint.iter().filter(|o| o.cmd.modifies()) {
        let ints = &mut fd.more().ints;
        let get = |var: u32| ints.iter().find(|(v, _)| *v == var).map(|&(_, x)| x);
        let target = match o.target {
            T::Value(v) => v,
            T::Var(var) => get(var).unwrap_or(0),
            T::None => 0,
        };
        let new = match (o.cmd, get(o.var)) {
            (C::Set, _) => target,
            (C::Add, Some(v)) => v.wrapping_add(target),
            (C::Add, None) => target,
            (C::Sub, Some(v)) => v.wrapping_sub(target),
            _ => continue,
        };
        match ints.iter_mut().find(|(v, _)| *v == o.var) {
            Some(slot) => slot.1 = new,
            None => ints.push((o.var, new)),
        }
    }
}

fn apply_bits(s: &Signature, fd: &mut FlowDetect) {
    if !s.flowint.is_empty() {
        apply_flowint(s, fd);
    }
    for op in &s.flowbits {
        match op {
            FlowbitOp::Set(ids) => {
                let bits = &mut fd.more().bits;
                for i in ids {
                    if !bits.contains(i) {
                        bits.push(*i);
                    }
                }
            }
            FlowbitOp::Unset(ids) => {
                if let Some(m) = fd.more.as_mut() {
                    m.bits.retain(|b| !ids.contains(b));
                }
            }
            FlowbitOp::Toggle(ids) => {
                let bits = &mut fd.more().bits;
                for i in ids {
                    if let Some(at) = bits.iter().position(|b| b == i) {
                        bits.remove(at);
                    } else {
                        bits.push(*i);
                    }
                }
            }
            _ => {}
        }
    }
}

/// `metadata:k v, k2 v2;` (every metadata option of the rule), split as Suricata does:
/// the first word is the key, the rest the value.
fn metadata_pairs(rule: &Rule) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for o in rule.options.iter().filter(|o| o.keyword == "metadata") {
        let Some(v) = o.value.as_deref() else {
            continue;
        };
        for item in v.split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let (k, val) = item.split_once(char::is_whitespace).unwrap_or((item, ""));
            out.push((k.to_string(), val.trim().to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(kind: Option<&str>, count: u64, seconds: u64) -> ThresholdValue {
        ThresholdValue {
            kind: kind.map(str::to_string),
            track: "by_src".into(),
            count,
            seconds,
        }
    }

    /// What each kind does with its matches in one window: Suricata's 1 (alert and
    /// action), 2 (action only) and 0 (nothing).
    #[test]
    fn each_kind_alerts_silences_or_does_nothing_as_suricata() {
        use ThresholdResult::{Alert, Nothing, Silent};
        let a: IpAddr = "10.0.0.1".parse().expect("ip");
        let results = |v: ThresholdValue, df: bool| {
            let mut th = Thresholds::new(DEFAULT_STATE_ENTRIES);
            (0..4)
                .map(|s| th.allows(1, &v, df, a, a, at(s)))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            results(t(Some("limit"), 2, 60), false),
            [Alert, Alert, Silent, Silent]
        );
        assert_eq!(
            results(t(Some("threshold"), 2, 60), false),
            [Nothing, Alert, Nothing, Alert]
        );
        assert_eq!(
            results(t(Some("both"), 2, 60), false),
            [Nothing, Alert, Silent, Silent]
        );
        assert_eq!(
            results(t(None, 2, 60), true),
            [Nothing, Nothing, Alert, Alert]
        );
    }

    /// A packet time, in whole seconds.
    fn at(secs: i64) -> Timestamp {
        Timestamp::new(secs, 0)
    }

    /// A packet time, in microseconds.
    fn at_us(micros: i64) -> Timestamp {
        Timestamp::new(micros / 1_000_000, (micros % 1_000_000) as u32 * 1000)
    }

    /// Which of `times` (seconds) let an alert through.
    fn run(v: &ThresholdValue, df: bool, times: &[i64]) -> Vec<bool> {
        run_at(v, df, &times.iter().map(|&s| at(s)).collect::<Vec<_>>())
    }

    /// Which of `times` let an alert through.
    fn run_at(v: &ThresholdValue, df: bool, times: &[Timestamp]) -> Vec<bool> {
        let mut th = Thresholds::new(DEFAULT_STATE_ENTRIES);
        let a: IpAddr = "10.0.0.1".parse().expect("ip");
        let b: IpAddr = "10.0.0.2".parse().expect("ip");
        times
            .iter()
            .map(|&s| th.alerts(1, v, df, a, b, s))
            .collect()
    }

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n))
    }

    #[test]
    fn a_full_threshold_table_lets_alerts_through_untracked_and_counts_them() {
        let limit = t(Some("limit"), 1, 60);
        let mut th = Thresholds::new(2);
        let mut alert = |src: u32, now: i64| th.alerts(1, &limit, false, ip(src), ip(0), at(now));
        assert!(alert(1, 0) && alert(2, 0));
        // Full of live windows: source 3 is not tracked, so never limited.
        assert!(alert(3, 0) && alert(3, 1));
        assert!(!alert(1, 1), "tracked sources stay limited");
        // At 60 the windows of sources 1 and 2 still hold (they end at 0 + 60 s,
        // inclusive): source 3 is still untracked (a third time).
        assert!(alert(3, 60));
        // At 61 they are over and make room for source 3.
        assert!(alert(3, 61));
        assert!(!alert(3, 62));
        assert_eq!(th.untracked, 3);
    }

    /// Making room drops only windows that are over: it dropped every window older than
    /// the new alert's rule's length, and so restarted the longer windows of other rules.
    #[test]
    fn making_room_keeps_the_live_windows_of_other_rules() {
        let hour = t(Some("limit"), 1, 3600);
        let ten = t(Some("limit"), 1, 10);
        let mut th = Thresholds::new(2);
        let (a, b) = (ip(1), ip(2));
        assert!(th.alerts(1, &hour, false, a, b, at(0)));
        assert!(th.alerts(2, &ten, false, a, b, at(0)));
        // A new key at 20: rule 2's window is over, rule 1's is not.
        assert!(th.alerts(2, &ten, false, ip(3), b, at(20)));
        assert!(!th.alerts(1, &hour, false, a, b, at(30)), "still limited");
        assert_eq!(th.untracked, 0);
    }

    /// A flood of new keys on a full table costs no scan of the table each (it did:
    /// hundreds of thousands of alerts from new sources took minutes).
    #[test]
    fn new_keys_on_a_full_table_are_cheap() {
        let limit = t(Some("limit"), 1, 3600);
        let mut th = Thresholds::new(DEFAULT_STATE_ENTRIES);
        let mut xbits = XbitStore::new(DEFAULT_STATE_ENTRIES);
        let set = signature::XbitOp {
            cmd: signature::XbitCmd::Set,
            bit: 0,
            track: signature::XbitTrack::Src,
            expire: 3600,
        };
        let started = std::time::Instant::now();
        for n in 0..400_000 {
            let now = i64::from(n / 1000);
            assert!(th.alerts(1, &limit, false, ip(n), ip(0), at(now)));
            xbits.apply(&set, ip(n), ip(0), now);
        }
        let took = started.elapsed();
        assert_eq!(th.untracked, 300_000);
        assert_eq!(xbits.dropped, 300_000);
        assert!(
            took < std::time::Duration::from_secs(10),
            "400,000 new keys took {took:?}"
        );
        // Once windows end, they make room again.
        assert!(th.alerts(1, &limit, false, ip(1 << 20), ip(0), at(3601)));
        assert_eq!(th.untracked, 300_000);
        assert!(th.state.len() <= DEFAULT_STATE_ENTRIES);
        let later = 3600 + 400;
        xbits.apply(&set, ip(1 << 20), ip(0), later);
        assert_eq!(xbits.dropped, 300_000);
        assert!(xbits.bits.len() <= DEFAULT_STATE_ENTRIES);
    }

    /// A flow's transaction inspection state follows its live transactions: it kept an
    /// entry per (rule, transaction) for the flow's whole life.
    #[test]
    fn finished_transactions_leave_no_inspection_state() {
        use crate::app::http::HttpSession;
        let rules: Vec<Rule> = (1..=20)
            .map(|sid| {
                crate::rules::parse_rule(
                    &format!(
                        "alert http any any -> any any (http.uri; content:\"/x{sid}\"; sid:{sid};)"
                    ),
                    &RuleContext::default(),
                )
                .expect("rule")
            })
            .collect();
        let mut engine = DetectEngine::from_rules(
            rules,
            &VarTable::default(),
            DetectSettings {
                prefilter_off: true,
                ..DetectSettings::default()
            },
        );
        let mut app = FlowApp::default();
        app.proto = AppProto::Known("http");
        app.parser = Parser::Http(Box::default());
        let mut fd = FlowDetect::default();
        let addr: IpAddr = "192.0.2.1".parse().expect("address");
        let mut most = 0;
        for i in 0..2000 {
            let Parser::Http(h) = &mut app.parser else {
                unreachable!("an HTTP parser")
            };
            let h: &mut HttpSession = h;
            h.feed(
                true,
                &crate::synth::packets::http_request("GET", "h", "/", "ua"),
            );
            h.feed(
                false,
                &crate::synth::packets::http_response(200, "OK", "text/plain", "x"),
            );
            app.generation += 1;
            for to_server in [true, false] {
                let view = PacketView {
                    src: addr,
                    dst: addr,
                    sp: 1,
                    dp: 80,
                    proto: 6,
                    icmp: None,
                    payload: &[],
                    to_server: Some(to_server),
                    established: true,
                    in_stream: false,
                    raw: None,
                    payload_inspection: true,
                    fragment: false,
                    proto_detected: true,
                    pseudo: true,
                    app_parsed: [true; 2],
                    header: Default::default(),
                };
                engine.inspect(&view, Some((&mut fd, &app)), at(i));
            }
            let below = fd.transactions_done_below();
            app.release_done(below);
            let held = fd.more.as_ref().map_or(0, |m| m.tx_done.len());
            most = most.max(held);
        }
        assert_eq!(
            fd.transactions_done_below(),
            2000,
            "every transaction was inspected"
        );
        assert!(most < 500, "inspection state grew to {most} entries");
    }

    /// A window holds up to its first alert's time plus `seconds`, inclusive, to the
    /// microsecond (`SCTIME_CMP_LTE(p->ts, tv1 + seconds)`); whole seconds were compared,
    /// so a window starting at 0.5 s ended at 60 s instead of 60.5 s.
    #[test]
    fn threshold_windows_end_to_the_microsecond() {
        let limit = t(Some("limit"), 1, 60);
        assert_eq!(
            run_at(
                &limit,
                false,
                &[
                    at_us(500_000),
                    at_us(60_400_000),
                    at_us(60_500_000),
                    at_us(60_500_001)
                ]
            ),
            [true, false, false, true]
        );
        // The new window starts at the alert that opened it: 60.500001 + 60 s.
        assert_eq!(
            run_at(
                &limit,
                false,
                &[
                    at_us(0),
                    at_us(60_000_001),
                    at_us(120_000_001),
                    at_us(120_000_002)
                ]
            ),
            [true, true, false, true]
        );
        // detection_filter counts in the same windows.
        assert_eq!(
            run_at(
                &t(None, 1, 10),
                true,
                &[at_us(1_999_999), at_us(11_999_999), at_us(12_000_000)]
            ),
            [false, true, false]
        );
    }

    #[test]
    fn threshold_types_as_suricata_documents_them() {
        // limit: the first `count` per window.
        assert_eq!(
            run(&t(Some("limit"), 2, 60), false, &[0, 1, 2, 3, 61]),
            [true, true, false, false, true]
        );
        // threshold: every `count`th.
        assert_eq!(
            run(&t(Some("threshold"), 3, 60), false, &[0, 1, 2, 3, 4, 5]),
            [false, false, true, false, false, true]
        );
        // both: once per window, at the `count`th.
        assert_eq!(
            run(&t(Some("both"), 2, 60), false, &[0, 1, 2, 3, 61, 62]),
            [false, true, false, false, false, true]
        );
        // detection_filter: every match after the first `count` in the window.
        assert_eq!(
            run(&t(None, 2, 60), true, &[0, 1, 2, 3]),
            [false, false, true, true]
        );
    }

    #[test]
    fn action_order_parses_and_ranks() {
        let o = ActionOrder::parse("drop,alert,reject,pass").expect("valid");
        assert!(o.rank(Action::Drop) < o.rank(Action::Alert));
        assert!(o.rank(Action::RejectBoth) == o.rank(Action::Reject));
        assert!(o.rank(Action::Pass) == 3);
        assert!(ActionOrder::parse("drop,alert").is_err());
        assert!(ActionOrder::parse("drop,alert,reject,pass,pass").is_err());
        assert!(ActionOrder::parse("drop,alert,reject,accept").is_err());
    }

    #[test]
    fn ssl_state_is_an_or_of_listed_flags_and_an_and_of_negated_ones() {
        use crate::rules::detection::SslState;
        let st = |s: &'static str, negated| SslState { state: s, negated };
        let ch = ssl_flags::CLIENT_HELLO;
        let sh = ssl_flags::SERVER_HELLO;
        assert!(ssl_state_matches(&[st("client_hello", false)], ch));
        assert!(!ssl_state_matches(&[st("client_hello", false)], sh));
        assert!(ssl_state_matches(
            &[st("client_hello", false), st("server_hello", false)],
            sh
        ));
        assert!(!ssl_state_matches(&[st("server_hello", true)], sh | ch));
        assert!(ssl_state_matches(&[st("server_hello", true)], ch));
    }
}
