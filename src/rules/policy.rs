//! AWS Network Firewall firewall policies (`describe-firewall-policy` JSON): which stateful
//! rule groups run, in which order, with which default actions and `HOME_NET`.

use serde::Deserialize;

use super::aws::{
    name_and_arn, parse_json, read_envelope, AwsError, AwsRuleGroup, Envelope, RuleOrder,
};
use super::terraform;

/// A stateful default action (strict order only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    DropStrict,
    DropEstablished,
    AlertStrict,
    AlertEstablished,
    DropEstablishedAppLayer,
    AlertEstablishedAppLayer,
    DropEstablishedAppLayerToServer,
    AlertEstablishedAppLayerToServer,
}

impl DefaultAction {
    pub fn parse(s: &str) -> Option<DefaultAction> {
        Some(match s {
            "aws:drop_strict" => DefaultAction::DropStrict,
            "aws:drop_established" => DefaultAction::DropEstablished,
            "aws:alert_strict" => DefaultAction::AlertStrict,
            "aws:alert_established" => DefaultAction::AlertEstablished,
            "aws:drop_established_app_layer" => DefaultAction::DropEstablishedAppLayer,
            "aws:alert_established_app_layer" => DefaultAction::AlertEstablishedAppLayer,
            "aws:drop_established_app_layer_to_server" => {
                DefaultAction::DropEstablishedAppLayerToServer
            }
            "aws:alert_established_app_layer_to_server" => {
                DefaultAction::AlertEstablishedAppLayerToServer
            }
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            DefaultAction::DropStrict => "aws:drop_strict",
            DefaultAction::DropEstablished => "aws:drop_established",
            DefaultAction::AlertStrict => "aws:alert_strict",
            DefaultAction::AlertEstablished => "aws:alert_established",
            DefaultAction::DropEstablishedAppLayer => "aws:drop_established_app_layer",
            DefaultAction::AlertEstablishedAppLayer => "aws:alert_established_app_layer",
            DefaultAction::DropEstablishedAppLayerToServer => {
                "aws:drop_established_app_layer_to_server"
            }
            DefaultAction::AlertEstablishedAppLayerToServer => {
                "aws:alert_established_app_layer_to_server"
            }
        }
    }

    pub fn is_drop(self) -> bool {
        matches!(
            self,
            DefaultAction::DropStrict
                | DefaultAction::DropEstablished
                | DefaultAction::DropEstablishedAppLayer
                | DefaultAction::DropEstablishedAppLayerToServer
        )
    }

    /// The "application" family (waits for application data) versus the "established"
    /// family; AWS refuses mixing them.
    fn family(self) -> Option<&'static str> {
        match self {
            DefaultAction::DropEstablished | DefaultAction::AlertEstablished => Some("established"),
            DefaultAction::DropEstablishedAppLayer
            | DefaultAction::AlertEstablishedAppLayer
            | DefaultAction::DropEstablishedAppLayerToServer
            | DefaultAction::AlertEstablishedAppLayerToServer => Some("application"),
            _ => None,
        }
    }
}

/// `StatefulEngineOptions.StreamExceptionPolicy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum StreamExceptionPolicy {
    #[default]
    Drop,
    Continue,
    Reject,
}

impl StreamExceptionPolicy {
    /// The name as AWS writes it.
    pub fn name(self) -> &'static str {
        match self {
            StreamExceptionPolicy::Drop => "DROP",
            StreamExceptionPolicy::Continue => "CONTINUE",
            StreamExceptionPolicy::Reject => "REJECT",
        }
    }
}

/// One `StatefulRuleGroupReferences` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupReference {
    pub resource_arn: String,
    pub priority: Option<u32>,
    /// `Override: {Action: DROP_TO_ALERT}`: the group's drop rules only alert.
    pub drop_to_alert: bool,
}

impl GroupReference {
    /// The group name at the end of the ARN.
    pub fn name(&self) -> &str {
        self.resource_arn
            .rsplit('/')
            .next()
            .unwrap_or(&self.resource_arn)
    }

    /// Whether `group` is the one referenced (by ARN, or by name).
    pub fn matches(&self, group: &AwsRuleGroup) -> bool {
        group.arn.as_deref() == Some(self.resource_arn.as_str()) || group.name == self.name()
    }
}

/// A firewall policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirewallPolicy {
    pub name: String,
    pub arn: Option<String>,
    pub rule_order: RuleOrder,
    pub stream_exception_policy: StreamExceptionPolicy,
    pub default_actions: Vec<DefaultAction>,
    /// `PolicyVariables.RuleVariables.HOME_NET`, joined into a Suricata group.
    pub home_net: Option<String>,
    pub references: Vec<GroupReference>,
    pub tcp_idle_timeout_secs: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RefJson {
    resource_arn: String,
    priority: Option<u32>,
    #[serde(rename = "Override")]
    override_: Option<OverrideJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OverrideJson {
    action: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FlowTimeoutsJson {
    tcp_idle_timeout_seconds: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EngineJson {
    rule_order: Option<String>,
    stream_exception_policy: Option<String>,
    flow_timeouts: Option<FlowTimeoutsJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DefinitionJson {
    #[serde(default)]
    definition: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyVariablesJson {
    #[serde(default)]
    rule_variables: std::collections::BTreeMap<String, DefinitionJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyJson {
    #[serde(default)]
    stateful_rule_group_references: Vec<RefJson>,
    #[serde(default)]
    stateful_default_actions: Vec<String>,
    stateful_engine_options: Option<EngineJson>,
    policy_variables: Option<PolicyVariablesJson>,
}

/// Whether JSON text is a firewall policy (rather than a rule group).
pub fn looks_like_policy(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| {
        terraform::resources(&v, terraform::FIREWALL_POLICY).is_some_and(|l| !l.is_empty())
            || v.get("FirewallPolicy").is_some()
            || v.get("Properties")
                .is_some_and(|p| p.get("FirewallPolicy").is_some())
            || v.get("StatelessDefaultActions").is_some()
            || v.get("StatefulRuleGroupReferences").is_some()
    })
}

/// Reads a policy from `describe-firewall-policy` JSON, the bare `FirewallPolicy`, or a
/// CloudFormation `AWS::NetworkFirewall::FirewallPolicy` resource.
pub fn parse_policy(text: &str, origin: &str) -> Result<FirewallPolicy, AwsError> {
    let shape = |message: String| AwsError::Shape {
        origin: origin.to_string(),
        message,
    };
    let mut value = parse_json(text, origin)?;
    if let Some(list) = terraform::resources(&value, terraform::FIREWALL_POLICY) {
        value = match list.as_slice() {
            [one] => terraform::firewall_policy_to_aws(one),
            _ => {
                return Err(shape(format!(
                    "{} `{}` resources in this Terraform document; expected one",
                    list.len(),
                    terraform::FIREWALL_POLICY
                )))
            }
        };
    }
    let Envelope { inner: policy_value, meta } = read_envelope(
        value,
        origin,
        "FirewallPolicy",
        "FirewallPolicyResponse",
        |v| v.get("StatelessDefaultActions").is_some() || v.get("StatefulRuleGroupReferences").is_some(),
        "not a firewall policy: expected `FirewallPolicy` (describe-firewall-policy output), a CloudFormation resource, or a bare policy",
    )?;
    let p: PolicyJson = serde_json::from_value(policy_value)
        .map_err(|e| shape(format!("invalid firewall policy: {e}")))?;
    let (name, arn) = name_and_arn(&meta, origin, "FirewallPolicyName", "FirewallPolicyArn");
    let engine = p.stateful_engine_options;
    let rule_order = match engine.as_ref().and_then(|e| e.rule_order.as_deref()) {
        None | Some("DEFAULT_ACTION_ORDER") => RuleOrder::DefaultActionOrder,
        Some("STRICT_ORDER") => RuleOrder::StrictOrder,
        Some(o) => return Err(shape(format!("unknown RuleOrder `{o}`"))),
    };
    let stream_exception_policy = match engine
        .as_ref()
        .and_then(|e| e.stream_exception_policy.as_deref())
    {
        None | Some("DROP") => StreamExceptionPolicy::Drop,
        Some("CONTINUE") => StreamExceptionPolicy::Continue,
        Some("REJECT") => StreamExceptionPolicy::Reject,
        Some(o) => {
            return Err(shape(format!(
                "unknown StreamExceptionPolicy `{o}` (DROP, CONTINUE, REJECT)"
            )))
        }
    };
    let tcp_idle_timeout_secs = engine
        .as_ref()
        .and_then(|e| e.flow_timeouts.as_ref())
        .and_then(|f| f.tcp_idle_timeout_seconds);
    let mut default_actions = Vec::new();
    for a in &p.stateful_default_actions {
        default_actions.push(
            DefaultAction::parse(a)
                .ok_or_else(|| shape(format!("unknown stateful default action `{a}`")))?,
        );
    }
    if !default_actions.is_empty() && rule_order != RuleOrder::StrictOrder {
        return Err(shape(
            "StatefulDefaultActions are only allowed with STRICT_ORDER".into(),
        ));
    }
    if default_actions.iter().filter(|a| a.is_drop()).count() > 1 {
        return Err(shape(
            "StatefulDefaultActions may hold one drop action at most".into(),
        ));
    }
    let families: std::collections::BTreeSet<&str> =
        default_actions.iter().filter_map(|a| a.family()).collect();
    if families.len() > 1 {
        return Err(shape(
            "StatefulDefaultActions cannot mix the established and the application-layer actions"
                .into(),
        ));
    }
    let mut references = Vec::new();
    for r in p.stateful_rule_group_references {
        if rule_order == RuleOrder::StrictOrder {
            match r.priority {
                Some(pr) if (1..=65_535).contains(&pr) => {}
                Some(pr) => {
                    return Err(shape(format!(
                        "rule group priority {pr} is outside 1..65535"
                    )))
                }
                None => {
                    return Err(shape(format!(
                        "rule group {} needs a Priority in a STRICT_ORDER policy",
                        r.resource_arn
                    )))
                }
            }
        }
        let drop_to_alert = match r.override_.and_then(|o| o.action) {
            None => false,
            Some(a) if a == "DROP_TO_ALERT" => true,
            Some(a) => {
                return Err(shape(format!(
                    "unknown Override action `{a}` (DROP_TO_ALERT)"
                )))
            }
        };
        references.push(GroupReference {
            resource_arn: r.resource_arn,
            priority: r.priority,
            drop_to_alert,
        });
    }
    if rule_order == RuleOrder::StrictOrder {
        let mut prios: Vec<u32> = references.iter().filter_map(|r| r.priority).collect();
        prios.sort_unstable();
        if prios.windows(2).any(|w| w[0] == w[1]) {
            return Err(shape(
                "rule group priorities must be unique in a policy".into(),
            ));
        }
    }
    let home_net = p
        .policy_variables
        .and_then(|v| {
            v.rule_variables
                .get("HOME_NET")
                .map(|d| d.definition.clone())
        })
        .filter(|d| !d.is_empty())
        .map(|d| {
            if d.len() == 1 {
                d[0].clone()
            } else {
                format!("[{}]", d.join(","))
            }
        });
    Ok(FirewallPolicy {
        name,
        arn,
        rule_order,
        stream_exception_policy,
        default_actions,
        home_net,
        references,
        tcp_idle_timeout_secs,
    })
}

impl FirewallPolicy {
    /// The referenced groups in evaluation order (strict order: by priority; otherwise as
    /// listed), each with its reference, or the first reference no group matches.
    pub fn resolve<'g>(
        &self,
        groups: &'g [AwsRuleGroup],
    ) -> Result<Vec<(&GroupReference, &'g AwsRuleGroup)>, String> {
        let mut out = Vec::with_capacity(self.references.len());
        for r in &self.references {
            let g = groups.iter().find(|g| r.matches(g)).ok_or_else(|| {
                format!(
                    "the policy references rule group `{}` ({}); give its JSON with --rule-group",
                    r.name(),
                    r.resource_arn
                )
            })?;
            out.push((r, g));
        }
        if self.rule_order == RuleOrder::StrictOrder {
            out.sort_by_key(|(r, _)| r.priority.unwrap_or(u32::MAX));
        }
        Ok(out)
    }

    /// Referenced groups whose rule order is not the policy's: AWS refuses such a policy.
    pub fn rule_order_conflicts(&self, groups: &[AwsRuleGroup]) -> Vec<String> {
        groups
            .iter()
            .filter(|g| self.references.iter().any(|r| r.matches(g)))
            .filter(|g| g.rule_order != self.rule_order)
            .map(|g| {
                format!(
                    "rule group `{}` is {} but policy `{}` is {}: AWS refuses such a policy",
                    g.name,
                    g.rule_order.name(),
                    self.name,
                    self.rule_order.name()
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"{"UpdateToken":"t","FirewallPolicyResponse":{"FirewallPolicyName":"prod","FirewallPolicyArn":"arn:aws:network-firewall:us-east-1:1:firewall-policy/prod"},
      "FirewallPolicy":{"StatelessDefaultActions":["aws:forward_to_sfe"],"StatelessFragmentDefaultActions":["aws:forward_to_sfe"],
        "StatefulRuleGroupReferences":[{"ResourceArn":"arn:aws:network-firewall:us-east-1:1:stateful-rulegroup/b","Priority":20},
                                        {"ResourceArn":"arn:aws:network-firewall:us-east-1:1:stateful-rulegroup/a","Priority":10,"Override":{"Action":"DROP_TO_ALERT"}}],
        "StatefulDefaultActions":["aws:drop_established","aws:alert_established"],
        "StatefulEngineOptions":{"RuleOrder":"STRICT_ORDER","StreamExceptionPolicy":"CONTINUE","FlowTimeouts":{"TcpIdleTimeoutSeconds":350}},
        "PolicyVariables":{"RuleVariables":{"HOME_NET":{"Definition":["10.0.0.0/16","10.2.0.0/16"]}}}}}"#;

    fn group(name: &str, order: RuleOrder) -> AwsRuleGroup {
        AwsRuleGroup {
            name: name.into(),
            arn: None,
            rule_order: order,
            ip_sets: Default::default(),
            port_sets: Default::default(),
            ip_set_refs: Default::default(),
            rules: String::new(),
            kind: "RulesString",
        }
    }

    #[test]
    fn reads_a_strict_policy() {
        let p = parse_policy(POLICY, "p.json").expect("parses");
        assert_eq!(
            (p.name.as_str(), p.rule_order, p.stream_exception_policy),
            (
                "prod",
                RuleOrder::StrictOrder,
                StreamExceptionPolicy::Continue
            )
        );
        assert_eq!(
            p.default_actions,
            vec![
                DefaultAction::DropEstablished,
                DefaultAction::AlertEstablished
            ]
        );
        assert_eq!(p.home_net.as_deref(), Some("[10.0.0.0/16,10.2.0.0/16]"));
        assert_eq!(p.tcp_idle_timeout_secs, Some(350));
        let groups = vec![
            group("a", RuleOrder::StrictOrder),
            group("b", RuleOrder::StrictOrder),
        ];
        let order = p.resolve(&groups).expect("resolves");
        let names: Vec<(&str, bool)> = order
            .iter()
            .map(|(r, g)| (g.name.as_str(), r.drop_to_alert))
            .collect();
        assert_eq!(names, vec![("a", true), ("b", false)], "by priority");
        let wrong = vec![
            group("a", RuleOrder::DefaultActionOrder),
            group("b", RuleOrder::StrictOrder),
        ];
        assert!(p.rule_order_conflicts(&groups).is_empty());
        let conflicts = p.rule_order_conflicts(&wrong);
        assert_eq!(conflicts.len(), 1);
        assert!(
            conflicts[0].contains("rule group `a` is DEFAULT_ACTION_ORDER")
                && conflicts[0].contains("AWS refuses"),
            "{conflicts:?}"
        );
        assert!(p
            .resolve(&groups[..1])
            .unwrap_err()
            .contains("references rule group `b`"));
    }

    #[test]
    fn refuses_what_aws_refuses() {
        let bad = |s: &str| parse_policy(s, "p.json").is_err();
        assert!(
            bad(r#"{"StatelessDefaultActions":[],"StatefulDefaultActions":["aws:drop_strict"]}"#),
            "defaults need strict order"
        );
        assert!(bad(
            r#"{"StatelessDefaultActions":[],"StatefulDefaultActions":["aws:drop_strict","aws:drop_established"],"StatefulEngineOptions":{"RuleOrder":"STRICT_ORDER"}}"#
        ));
        assert!(bad(
            r#"{"StatelessDefaultActions":[],"StatefulDefaultActions":["aws:drop_established","aws:alert_established_app_layer"],"StatefulEngineOptions":{"RuleOrder":"STRICT_ORDER"}}"#
        ));
        assert!(bad(
            r#"{"StatelessDefaultActions":[],"StatefulRuleGroupReferences":[{"ResourceArn":"x/a"}],"StatefulEngineOptions":{"RuleOrder":"STRICT_ORDER"}}"#
        ));
        assert!(bad(
            r#"{"StatelessDefaultActions":[],"StatefulRuleGroupReferences":[{"ResourceArn":"x/a","Priority":1},{"ResourceArn":"x/b","Priority":1}],"StatefulEngineOptions":{"RuleOrder":"STRICT_ORDER"}}"#
        ));
        assert!(bad(
            r#"{"StatelessDefaultActions":[],"StatefulDefaultActions":["aws:drop_everything"],"StatefulEngineOptions":{"RuleOrder":"STRICT_ORDER"}}"#
        ));
        assert!(bad(r#"{"Foo":1}"#));
        let ok = parse_policy(r#"{"StatelessDefaultActions":[],"StatefulRuleGroupReferences":[{"ResourceArn":"x/a"}]}"#, "p.json").expect("action order");
        assert_eq!(ok.rule_order, RuleOrder::DefaultActionOrder);
    }
}
