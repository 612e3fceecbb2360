//! Terraform's shapes of the same AWS objects: `aws_networkfirewall_rule_group` and
//! `aws_networkfirewall_firewall_policy` resources, from a JSON configuration (`.tf.json`)
//! or from `terraform show -json` (state or plan). Each resource is rewritten into the
//! AWS API's field names (`rules_source` -> `RulesSource`, `ip_sets` blocks -> the
//! `IPSets` map, ...) so the rest of the loader reads one shape.
//!
//! Terraform writes a nested block as an object or as a list of objects, and an unset
//! attribute as `""`, `[]` or `null`; all of them are read alike. In a configuration, a
//! rule group has no ARN yet, so it gets the expression that names it,
//! `${aws_networkfirewall_rule_group.<label>.arn}`, which is exactly what a policy in the
//! same configuration writes as the group's `resource_arn`.

use serde_json::{json, Map, Value};

pub const RULE_GROUP: &str = "aws_networkfirewall_rule_group";
pub const FIREWALL_POLICY: &str = "aws_networkfirewall_firewall_policy";

/// One resource: its address (`aws_networkfirewall_rule_group.name`) and attributes.
pub struct Resource {
    pub address: String,
    pub values: Value,
}

/// The resources of type `kind` in a Terraform document, or `None` when the document is
/// not Terraform-shaped.
pub fn resources(doc: &Value, kind: &str) -> Option<Vec<Resource>> {
    let mut out = Vec::new();
    if let Some(config) = doc.get("resource") {
        // `.tf.json`: {"resource": {type: {label: body}}}, or a list of such objects.
        for by_type in list(config) {
            for (label, body) in by_type
                .get(kind)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                for b in list(body) {
                    out.push(Resource {
                        address: format!("{kind}.{label}"),
                        values: b.clone(),
                    });
                }
            }
        }
        return Some(out);
    }
    let module = doc
        .get("values")
        .or_else(|| doc.get("planned_values"))
        .and_then(|v| v.get("root_module"));
    if let Some(module) = module {
        collect_module(module, kind, &mut out);
        return Some(out);
    }
    // One resource as `terraform show -json` lists it.
    if doc.get("type").and_then(Value::as_str).is_some() && doc.get("values").is_some() {
        if doc["type"] == kind {
            out.push(Resource {
                address: doc
                    .get("address")
                    .and_then(Value::as_str)
                    .unwrap_or(kind)
                    .to_string(),
                values: doc["values"].clone(),
            });
        }
        return Some(out);
    }
    None
}

fn collect_module(module: &Value, kind: &str, out: &mut Vec<Resource>) {
    for r in module.get("resources").map(list).unwrap_or_default() {
        if r.get("type").and_then(Value::as_str) == Some(kind) {
            out.push(Resource {
                address: r
                    .get("address")
                    .and_then(Value::as_str)
                    .unwrap_or(kind)
                    .to_string(),
                values: r.get("values").cloned().unwrap_or(Value::Null),
            });
        }
    }
    for child in module.get("child_modules").map(list).unwrap_or_default() {
        collect_module(child, kind, out);
    }
}

/// A value as a list: arrays as they are, anything else as one element, null as none.
fn list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// A nested block written once: an object, or the first object of a list.
fn block<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key)
        .map(list)
        .and_then(|l| l.into_iter().find(|b| b.is_object()))
}

/// Nested blocks that may repeat.
fn blocks<'a>(v: &'a Value, key: &str) -> Vec<&'a Value> {
    v.get(key)
        .map(list)
        .unwrap_or_default()
        .into_iter()
        .filter(|b| b.is_object())
        .collect()
}

/// A set attribute of strings (`definition`, `targets`, ...).
fn strings(v: &Value, key: &str) -> Value {
    Value::Array(
        v.get(key)
            .map(list)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|s| s.as_str().map(|s| Value::String(s.to_string())))
            .collect(),
    )
}

/// A string attribute, absent when unset or empty.
fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A number attribute (Terraform may write numbers as strings in configurations).
fn number(v: &Value, key: &str) -> Option<Value> {
    match v.get(key)? {
        Value::Number(n) => Some(Value::Number(n.clone())),
        Value::String(s) => s.trim().parse::<u64>().ok().map(Value::from),
        _ => None,
    }
}

/// `[{key, <inner>: {definition}}]` -> `{key: {Definition}}`.
fn keyed_sets(v: Option<&Value>, key: &str, inner: &str, field: &str, aws_field: &str) -> Value {
    let mut map = Map::new();
    for b in v.map(|v| blocks(v, key)).unwrap_or_default() {
        if let (Some(k), Some(set)) = (text(b, "key"), block(b, inner)) {
            let value = if aws_field == "Definition" {
                json!({ aws_field: strings(set, field) })
            } else {
                json!({ aws_field: text(set, field).unwrap_or("") })
            };
            map.insert(k.to_string(), value);
        }
    }
    Value::Object(map)
}

/// The address's label, for a configuration resource's stand-in ARN.
fn config_arn(address: &str) -> String {
    format!("${{{address}.arn}}")
}

/// A rule-group resource as `describe-rule-group` output.
pub fn rule_group_to_aws(r: &Resource) -> Value {
    let v = &r.values;
    let group = block(v, "rule_group");
    let mut source = Map::new();
    if let Some(src) = group.and_then(|g| block(g, "rules_source")) {
        if let Some(s) = text(src, "rules_string") {
            source.insert("RulesString".into(), s.into());
        }
        if let Some(list) = block(src, "rules_source_list") {
            source.insert(
                "RulesSourceList".into(),
                json!({
                    "GeneratedRulesType": text(list, "generated_rules_type").unwrap_or(""),
                    "TargetTypes": strings(list, "target_types"),
                    "Targets": strings(list, "targets"),
                }),
            );
        }
        let stateful: Vec<Value> = blocks(src, "stateful_rule")
            .into_iter()
            .map(|rule| {
                let h = block(rule, "header").unwrap_or(&Value::Null);
                let field = |k: &str| text(h, k).unwrap_or("");
                let options: Vec<Value> = blocks(rule, "rule_option")
                    .into_iter()
                    .map(|o| {
                        json!({
                            "Keyword": text(o, "keyword").unwrap_or(""),
                            "Settings": strings(o, "settings"),
                        })
                    })
                    .collect();
                json!({
                    "Action": text(rule, "action").unwrap_or(""),
                    "Header": {
                        "Protocol": field("protocol"),
                        "Source": field("source"),
                        "SourcePort": field("source_port"),
                        "Direction": field("direction"),
                        "Destination": field("destination"),
                        "DestinationPort": field("destination_port"),
                    },
                    "RuleOptions": options,
                })
            })
            .collect();
        if !stateful.is_empty() {
            source.insert("StatefulRules".into(), Value::Array(stateful));
        }
        if block(src, "stateless_rules_and_custom_actions").is_some() {
            source.insert("StatelessRulesAndCustomActions".into(), json!({}));
        }
    }
    // The resource-level `rules` argument is the same Suricata text.
    if source.is_empty() {
        if let Some(s) = text(v, "rules") {
            source.insert("RulesString".into(), s.into());
        }
    }
    let mut aws_group = Map::new();
    aws_group.insert("RulesSource".into(), Value::Object(source));
    if let Some(vars) = group.and_then(|g| block(g, "rule_variables")) {
        aws_group.insert(
            "RuleVariables".into(),
            json!({
                "IPSets": keyed_sets(Some(vars), "ip_sets", "ip_set", "definition", "Definition"),
                "PortSets": keyed_sets(Some(vars), "port_sets", "port_set", "definition", "Definition"),
            }),
        );
    }
    if let Some(refs) = group.and_then(|g| block(g, "reference_sets")) {
        aws_group.insert(
            "ReferenceSets".into(),
            json!({
                "IPSetReferences": keyed_sets(Some(refs), "ip_set_references", "ip_set_reference", "reference_arn", "ReferenceArn"),
            }),
        );
    }
    if let Some(order) = group
        .and_then(|g| block(g, "stateful_rule_options"))
        .and_then(|o| text(o, "rule_order"))
    {
        aws_group.insert("StatefulRuleOptions".into(), json!({ "RuleOrder": order }));
    }
    json!({
        "RuleGroup": aws_group,
        "RuleGroupResponse": {
            "RuleGroupName": text(v, "name").unwrap_or(&r.address),
            "RuleGroupArn": text(v, "arn").map_or_else(|| config_arn(&r.address), str::to_string),
            "Type": text(v, "type").unwrap_or("STATEFUL"),
        },
    })
}

/// A firewall-policy resource as `describe-firewall-policy` output.
pub fn firewall_policy_to_aws(r: &Resource) -> Value {
    let v = &r.values;
    let policy = block(v, "firewall_policy").unwrap_or(&Value::Null);
    let mut out = Map::new();
    out.insert(
        "StatefulDefaultActions".into(),
        strings(policy, "stateful_default_actions"),
    );
    out.insert(
        "StatelessDefaultActions".into(),
        strings(policy, "stateless_default_actions"),
    );
    let references: Vec<Value> = blocks(policy, "stateful_rule_group_reference")
        .into_iter()
        .map(|g| {
            let mut m = Map::new();
            m.insert(
                "ResourceArn".into(),
                text(g, "resource_arn").unwrap_or("").into(),
            );
            if let Some(p) = number(g, "priority").filter(|p| p.as_u64() != Some(0)) {
                m.insert("Priority".into(), p);
            }
            if let Some(a) = block(g, "override").and_then(|o| text(o, "action")) {
                m.insert("Override".into(), json!({ "Action": a }));
            }
            Value::Object(m)
        })
        .collect();
    out.insert(
        "StatefulRuleGroupReferences".into(),
        Value::Array(references),
    );
    if let Some(engine) = block(policy, "stateful_engine_options") {
        let mut e = Map::new();
        if let Some(o) = text(engine, "rule_order") {
            e.insert("RuleOrder".into(), o.into());
        }
        if let Some(s) = text(engine, "stream_exception_policy") {
            e.insert("StreamExceptionPolicy".into(), s.into());
        }
        if let Some(t) =
            block(engine, "flow_timeouts").and_then(|f| number(f, "tcp_idle_timeout_seconds"))
        {
            e.insert("FlowTimeouts".into(), json!({ "TcpIdleTimeoutSeconds": t }));
        }
        out.insert("StatefulEngineOptions".into(), Value::Object(e));
    }
    if let Some(vars) = block(policy, "policy_variables") {
        out.insert(
            "PolicyVariables".into(),
            json!({
                "RuleVariables": keyed_sets(Some(vars), "rule_variables", "ip_set", "definition", "Definition"),
            }),
        );
    }
    json!({
        "FirewallPolicy": out,
        "FirewallPolicyResponse": {
            "FirewallPolicyName": text(v, "name").unwrap_or(&r.address),
            "FirewallPolicyArn": text(v, "arn").map_or_else(|| config_arn(&r.address), str::to_string),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::aws::{parse_rule_group, parse_rule_groups, RuleOrder};
    use super::super::policy::{looks_like_policy, parse_policy};

    /// The same 5-tuple group as `describe-rule-group` prints it.
    const AWS_FIVE_TUPLE: &str = r#"{
      "RuleGroupResponse": {"RuleGroupName": "five", "RuleGroupArn": "arn:aws:network-firewall:us-east-1:111122223333:stateful-rulegroup/five", "Type": "STATEFUL"},
      "RuleGroup": {
        "RuleVariables": {"IPSets": {"HOME_NET": {"Definition": ["10.0.0.0/16", "10.1.0.0/16"]}}, "PortSets": {"WEB": {"Definition": ["80", "443"]}}},
        "RulesSource": {"StatefulRules": [
          {"Action": "DROP", "Header": {"Protocol": "TCP", "Source": "$HOME_NET", "SourcePort": "ANY", "Direction": "FORWARD", "Destination": "ANY", "DestinationPort": "$WEB"},
           "RuleOptions": [{"Keyword": "msg", "Settings": ["\"web out\""]}, {"Keyword": "sid", "Settings": ["100"]}]}
        ]},
        "StatefulRuleOptions": {"RuleOrder": "STRICT_ORDER"}
      }
    }"#;

    /// `terraform show -json` of that group, inside a child module: blocks as lists, unset
    /// attributes as "" and [].
    const STATE_FIVE_TUPLE: &str = r#"{
      "format_version": "1.0",
      "values": {"root_module": {"resources": [], "child_modules": [{"resources": [{
        "address": "module.fw.aws_networkfirewall_rule_group.five",
        "type": "aws_networkfirewall_rule_group", "name": "five",
        "values": {
          "arn": "arn:aws:network-firewall:us-east-1:111122223333:stateful-rulegroup/five",
          "name": "five", "type": "STATEFUL", "capacity": 100, "rules": "", "description": "",
          "rule_group": [{
            "reference_sets": [],
            "rule_variables": [{
              "ip_sets": [{"key": "HOME_NET", "ip_set": [{"definition": ["10.0.0.0/16", "10.1.0.0/16"]}]}],
              "port_sets": [{"key": "WEB", "port_set": [{"definition": ["80", "443"]}]}]
            }],
            "rules_source": [{
              "rules_source_list": [], "rules_string": "", "stateless_rules_and_custom_actions": [],
              "stateful_rule": [{
                "action": "DROP",
                "header": [{"destination": "ANY", "destination_port": "$WEB", "direction": "FORWARD", "protocol": "TCP", "source": "$HOME_NET", "source_port": "ANY"}],
                "rule_option": [{"keyword": "msg", "settings": ["\"web out\""]}, {"keyword": "sid", "settings": ["100"]}]
              }]
            }],
            "stateful_rule_options": [{"rule_order": "STRICT_ORDER"}]
          }]
        }
      }]}]}}
    }"#;

    #[test]
    fn state_json_reads_as_the_aws_cli_shape() {
        let aws = parse_rule_group(AWS_FIVE_TUPLE, "five.json").expect("aws form");
        let tf = parse_rule_group(STATE_FIVE_TUPLE, "state.json").expect("terraform form");
        assert_eq!(tf, aws);
        assert_eq!(tf.rule_order, RuleOrder::StrictOrder);
        assert_eq!(
            tf.rules,
            r#"drop tcp $HOME_NET ANY -> ANY $WEB (msg:"web out"; sid:100;)"#
        );
    }

    /// A `.tf.json` configuration: a domain list, a rules string given as the resource's
    /// `rules`, and a policy that references both by expression.
    const CONFIG: &str = r#"{
      "resource": {
        "aws_networkfirewall_rule_group": {
          "deny": {
            "name": "deny-domains", "capacity": 100, "type": "STATEFUL",
            "rule_group": {
              "rules_source": {"rules_source_list": {"generated_rules_type": "DENYLIST", "target_types": ["TLS_SNI", "HTTP_HOST"], "targets": [".example.com"]}},
              "stateful_rule_options": {"rule_order": "STRICT_ORDER"}
            }
          },
          "custom": {
            "name": "custom", "capacity": 10, "type": "STATEFUL",
            "rules": "alert tcp any any -> any 22 (msg:\"ssh\"; sid:5;)",
            "rule_group": {"stateful_rule_options": {"rule_order": "STRICT_ORDER"}}
          }
        },
        "aws_networkfirewall_firewall_policy": {
          "main": {
            "name": "main",
            "firewall_policy": {
              "stateless_default_actions": ["aws:forward_to_sfe"],
              "stateless_fragment_default_actions": ["aws:forward_to_sfe"],
              "stateful_default_actions": ["aws:drop_established", "aws:alert_established"],
              "stateful_engine_options": {"rule_order": "STRICT_ORDER", "stream_exception_policy": "REJECT"},
              "stateful_rule_group_reference": [
                {"priority": 20, "resource_arn": "${aws_networkfirewall_rule_group.custom.arn}"},
                {"priority": 10, "resource_arn": "${aws_networkfirewall_rule_group.deny.arn}", "override": {"action": "DROP_TO_ALERT"}}
              ],
              "policy_variables": {"rule_variables": {"key": "HOME_NET", "ip_set": {"definition": ["192.168.0.0/16"]}}}
            }
          }
        }
      }
    }"#;

    #[test]
    fn configuration_groups_match_the_aws_cli_shape() {
        let groups = parse_rule_groups(CONFIG, "fw.tf.json").expect("groups");
        assert_eq!(groups.len(), 2);
        let deny = &groups[0];
        assert_eq!(deny.name, "deny-domains");
        assert_eq!(
            deny.arn.as_deref(),
            Some("${aws_networkfirewall_rule_group.deny.arn}")
        );
        let aws = parse_rule_group(
            r#"{"RuleGroupResponse": {"RuleGroupName": "deny-domains"}, "RuleGroup": {"RulesSource": {"RulesSourceList": {"GeneratedRulesType": "DENYLIST", "TargetTypes": ["TLS_SNI", "HTTP_HOST"], "Targets": [".example.com"]}}, "StatefulRuleOptions": {"RuleOrder": "STRICT_ORDER"}}}"#,
            "deny.json",
        )
        .expect("aws form");
        assert_eq!(deny.rules, aws.rules);
        assert_eq!(
            groups[1].rules,
            "alert tcp any any -> any 22 (msg:\"ssh\"; sid:5;)"
        );
        assert_eq!(groups[1].kind, "RulesString");
    }

    #[test]
    fn configuration_policy_resolves_its_groups() {
        assert!(looks_like_policy(CONFIG));
        let p = parse_policy(CONFIG, "fw.tf.json").expect("policy");
        assert_eq!(p.name, "main");
        assert_eq!(p.home_net.as_deref(), Some("192.168.0.0/16"));
        let groups = parse_rule_groups(CONFIG, "fw.tf.json").expect("groups");
        let order = p.resolve(&groups).expect("resolves");
        let names: Vec<(&str, bool)> = order
            .iter()
            .map(|(r, g)| (g.name.as_str(), r.drop_to_alert))
            .collect();
        assert_eq!(names, [("deny-domains", true), ("custom", false)]);
    }

    #[test]
    fn documents_without_the_resource_are_errors() {
        let none = r#"{"resource": {"aws_s3_bucket": {"b": {"bucket": "x"}}}}"#;
        let e = parse_rule_groups(none, "x.tf.json")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no `aws_networkfirewall_rule_group` resource"),
            "{e}"
        );
        assert!(!looks_like_policy(none));
        let two = r#"{"resource": {"aws_networkfirewall_firewall_policy": {"a": {"name": "a", "firewall_policy": {}}, "b": {"name": "b", "firewall_policy": {}}}}}"#;
        let e = parse_policy(two, "two.tf.json").unwrap_err().to_string();
        assert!(
            e.contains("2 `aws_networkfirewall_firewall_policy` resources"),
            "{e}"
        );
    }
}
