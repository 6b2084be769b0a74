//! `thanos_rule`: a Thanos Ruler StatefulSet that evaluates recording and alerting rules
//! through Thanos Query (the global view, so one rule can span every cluster), sends alerts to
//! Alertmanagers and serves what it records over the Store API. Its rules are inline rule files
//! (`rule_groups`) and, federated, the PrometheusRule objects of prometheus-operator its
//! selectors pick in the cluster, read at plan time like receive's selector hashrings.
//!
//! The selected PrometheusRules live in a computed attribute (`prometheus_rules`), which the
//! plan fills when the cluster can be read and the state keeps as applied, and from which
//! validation builds the spec: so a plan shows which rules are federated and which changed, a
//! refresh judges drift against what was applied, and an apply whose selection changed since
//! the plan writes nothing. Terraform and OpenTofu plan again just before applying and stop
//! when a known value of the saved plan changed ("inconsistent final plan", naming the
//! `prometheus_rules` entry); `Kind::plan_still_holds` is the same guard for a client that
//! applies without planning again.

use std::collections::BTreeMap;

use tfplugin::framework::{Diagnostic, Input, Model, Validator};
use thanos_cluster::{ForeignKind, LiveObject, PvcPolicy, Selection};
use thanos_render::args::DENY_ALWAYS;
use thanos_render::common::Common;
use thanos_render::receive::{DEFAULT_PVC_RETENTION, Discovered};
use thanos_render::rule::{self as render, Alertmanager, BasicAuth, RuleSpec};
use thanos_render::rules::{self, RuleFile};
use thanos_render::validate::{self, Invalid, Path, Report};
use thanos_render::{RenderContext, Rendered};

use super::blocks::{self, DataVolumeModel, LabelSelectorModel, ResourcesModel, SecretKeyModel};
use super::checks::{self, Checked};
use super::shared::{self, CommonModel};
use crate::lifecycle::Kind;
use crate::lifecycle::settings::LifecycleModel;

pub const TYPE_NAME: &str = "thanos_rule";

/// prometheus-operator's PrometheusRule (monitoring.coreos.com/v1), the objects the selectors
/// pick.
pub const PROMETHEUS_RULE: ForeignKind = ForeignKind {
    group: "monitoring.coreos.com",
    version: "v1",
    kind: "PrometheusRule",
    plural: "prometheusrules",
};

/// A Thanos Ruler: evaluates recording and alerting rules through Thanos Query (so one rule can
/// span every cluster the query sees), sends firing alerts to Alertmanagers, and serves the
/// series it records over the Store API (add `store_endpoint` to a `thanos_query`'s `stores`).
/// Its rules are the inline `rule_groups` and the PrometheusRule objects (prometheus-operator)
/// that `prometheus_rule_selector` picks, read from the cluster at plan time. A change of any
/// rule rolls the ruler's pods: Thanos reads rule files only when it starts.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct RuleModel {
    #[tf(flatten)]
    pub common: CommonModel,
    /// Number of ruler pods. Defaults to `1`. Every pod evaluates every rule; the series and
    /// alerts of the pods differ only in `replica_label`, which queries deduplicate and alerts
    /// drop.
    #[tf(default = thanos_render::common::DEFAULT_REPLICAS, validate = Validator::int_at_least(0))]
    pub replicas: Input<i64>,
    /// Thanos Query HTTP endpoints the rules are evaluated through (`--query`), e.g. a
    /// `thanos_query`'s `http_url`; also `host:port` or a `dns+`/`dnssrv+` address. At least
    /// one.
    #[tf(required)]
    pub query_endpoints: Input<Vec<String>>,
    /// Alertmanagers that receive the firing alerts, each with optional TLS and basic
    /// authentication read from Secrets.
    #[tf(nested)]
    pub alertmanagers: Input<Vec<AlertmanagerModel>>,
    /// URL of the Thanos Query UI that alerts link to as their source (`--alert.query-url`).
    pub alert_query_url: Input<String>,
    /// Labels added to every series the ruler records and every alert it sends (`--label`),
    /// e.g. `{ ruler = "global" }`.
    pub external_labels: Input<BTreeMap<String, String>>,
    /// The label that tells the pods of this ruler apart (`--label=<name>="<pod>"`), dropped
    /// from alerts (`--alert.label-drop`) so Alertmanager sees one alert. Defaults to
    /// `thanos_ruler_replica` (prometheus-operator's name); add it to the `replica_labels` of
    /// the `thanos_query` that reads this ruler, so its series are deduplicated.
    #[tf(default = render::DEFAULT_REPLICA_LABEL)]
    pub replica_label: Input<String>,
    /// How often rule groups without an `interval` are evaluated (`--eval-interval`), a
    /// Prometheus duration. Unset uses Thanos's default (`1m`).
    pub evaluation_interval: Input<String>,
    /// How long recorded blocks stay in the ruler's local TSDB (`--tsdb.retention`), a
    /// Prometheus duration. Unset uses Thanos's default (`48h`).
    pub local_tsdb_retention: Input<String>,
    /// What happens to the data claims when the resource is destroyed: `Retain` (default, the
    /// recorded data survives) or `Delete`.
    #[tf(default = DEFAULT_PVC_RETENTION, validate = Validator::one_of(&["Retain", "Delete"]))]
    pub pvc_retention_on_delete: Input<String>,
    /// What happens to the claims of pods removed by scaling down: `Retain` (default) or
    /// `Delete`.
    #[tf(default = DEFAULT_PVC_RETENTION, validate = Validator::one_of(&["Retain", "Delete"]))]
    pub pvc_retention_on_scale_down: Input<String>,
    /// Inline Prometheus rule files by name: each value is a rule file (`groups:` ...), e.g.
    /// `file("rules/slo.yaml")` or `yamlencode({ groups = [...] })`. Checked at plan time the way
    /// `thanos tools rules-check` checks them (structure, durations, PromQL, templates), with
    /// errors naming the group, rule and field. Rendered in canonical form to `<name>.yaml`.
    pub rule_groups: Input<BTreeMap<String, String>>,
    /// Federate the PrometheusRule objects (monitoring.coreos.com/v1) whose labels match; `{}`
    /// selects all. They are read at plan time when the cluster can be reached, so the plan
    /// shows each selected object's rules in `prometheus_rules`; an object whose rules Thanos
    /// would refuse is left out with a warning. Unset federates none. The provider's
    /// credentials need `list` on `prometheusrules.monitoring.coreos.com` (and on
    /// `namespaces` with `prometheus_rule_namespace_selector`).
    #[tf(block)]
    pub prometheus_rule_selector: Input<LabelSelectorModel>,
    /// The namespaces `prometheus_rule_selector` searches, by their labels; `{}` searches
    /// all. Unset searches only this resource's namespace.
    #[tf(block)]
    pub prometheus_rule_namespace_selector: Input<LabelSelectorModel>,
    /// The rule file of every selected PrometheusRule, by `<namespace>/<name>`, exactly as
    /// the ruler evaluates it. Read at plan time when the cluster can be reached (known after
    /// apply when it cannot and the configuration changed). When the selection changes between
    /// plan and apply, the apply stops before writing anything (Terraform and OpenTofu report
    /// an inconsistent final plan for the `prometheus_rules` entry that changed): run the plan
    /// again. Null without `prometheus_rule_selector`.
    #[tf(computed)]
    pub prometheus_rules: Input<BTreeMap<String, String>>,
    /// Store API address of the ruler's pods, for `thanos_query.stores`. The query this ruler
    /// evaluates through (`query_endpoints`) cannot reference it, as Terraform would see a
    /// cycle: write it out there, `dnssrv+_grpc._tcp.thanosrule-<name>-operated.<namespace>.svc`.
    #[tf(computed)]
    pub store_endpoint: Input<String>,
    /// Compute resources of the ruler container.
    #[tf(block)]
    pub resources: Input<ResourcesModel>,
    /// Volume for the ruler's TSDB (recorded series and alert state). Set `empty_dir` or
    /// `pvc`; unset uses an `emptyDir`.
    #[tf(block)]
    pub data_volume: Input<DataVolumeModel>,
    /// The Secret key holding the Thanos object storage configuration (objstore YAML): the
    /// ruler ships its blocks there (`--objstore.config-file`).
    #[tf(block)]
    pub object_storage_config: Input<SecretKeyModel>,
}

/// An Alertmanager (or a DNS name of several) the ruler sends alerts to.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct AlertmanagerModel {
    /// `http://host:port` or `https://host:port`, optionally with a path prefix; prefix the
    /// scheme with `dns+` (every address of the name) or `dnssrv+` (an SRV name, no port) to
    /// send to every replica, e.g. `dnssrv+http://_web._tcp.alertmanager-operated.monitoring.svc`.
    #[tf(required, validate = Validator::not_empty())]
    pub url: Input<String>,
    /// Timeout of one request to the Alertmanager, a Prometheus duration. Unset uses Thanos's
    /// default (`10s`).
    pub timeout: Input<String>,
    /// Secret holding the CA that signs the Alertmanager's certificate; unset trusts the
    /// image's system roots. Needs an `https` URL.
    #[tf(validate = checks::dns_label_validator())]
    pub secret_name: Input<String>,
    /// Key of the CA certificate in `secret_name`. Defaults to `ca.crt`.
    pub ca_key: Input<String>,
    /// Secret with `tls.crt` and `tls.key` presented to the Alertmanager (mutual TLS).
    #[tf(validate = checks::dns_label_validator())]
    pub client_secret_name: Input<String>,
    /// Name checked against the Alertmanager certificate's subject alternative names.
    pub server_name: Input<String>,
    /// HTTP basic authentication, the password read from a Secret.
    #[tf(nested)]
    pub basic_auth: Input<BasicAuthModel>,
}

/// HTTP basic authentication with the password in a Secret.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct BasicAuthModel {
    /// User name.
    #[tf(required, validate = Validator::not_empty())]
    pub username: Input<String>,
    /// Secret holding the password.
    #[tf(required, validate = checks::dns_label_validator())]
    pub secret_name: Input<String>,
    /// Key of the password in `secret_name`. Defaults to `password`.
    pub password_key: Input<String>,
}

/// `thanos_rule` as a resource.
pub struct Rule;

impl Kind for Rule {
    type Model = RuleModel;
    type Spec = RuleSpec;
    const TYPE_NAME: &'static str = TYPE_NAME;
    const OWNER: thanos_render::meta::Kind = thanos_render::meta::Kind::Rule;

    fn identity(model: &RuleModel) -> Option<(String, String)> {
        model.common.identity()
    }

    fn lifecycle(model: &RuleModel) -> &LifecycleModel {
        &model.common.lifecycle
    }

    fn lifecycle_mut(model: &mut RuleModel) -> &mut LifecycleModel {
        &mut model.common.lifecycle
    }

    fn spec_common(spec: &RuleSpec) -> &Common {
        &spec.common
    }

    fn validate(m: &RuleModel, r: &mut Report) -> Option<RuleSpec> {
        validate(m, r)
    }

    fn render(
        spec: &RuleSpec,
        context: &RenderContext,
        _discovered: &Discovered,
    ) -> Result<Rendered, thanos_render::Error> {
        Ok(render::render(spec, context))
    }

    fn set_computed(m: &mut RuleModel, _discovered: &Discovered) {
        if let (Some(name), Some(ns)) = (m.common.name.known(), m.common.namespace.known()) {
            m.store_endpoint = Input::Known(render::store_endpoint(name, ns));
        }
        // Without a selector nothing is federated: a known null. With one, the selection is
        // what was read (take_selected), or stays as planned.
        if m.prometheus_rule_selector.is_null() {
            m.prometheus_rules = Input::Null;
        }
    }

    /// The recorded series and alert state may not be shipped yet: kept unless the user chose
    /// otherwise.
    fn pvc_policy_on_delete(m: &RuleModel) -> PvcPolicy {
        m.pvc_retention_on_delete
            .known()
            .and_then(|p| PvcPolicy::parse(p))
            .unwrap_or(PvcPolicy::Retain)
    }

    fn plan_still_holds(planned: &RuleModel, now: &RuleModel) -> Result<(), Diagnostic> {
        selection_unchanged(planned, now)
    }

    fn selection(m: &RuleModel) -> Option<Selection> {
        let mut report = Report::default();
        let root = Path::root();
        let selector = blocks::label_selector(
            &m.prometheus_rule_selector,
            &root.attr("prometheus_rule_selector"),
            &mut report,
        )
        .into_value()?;
        let namespace_selector = blocks::label_selector(
            &m.prometheus_rule_namespace_selector,
            &root.attr("prometheus_rule_namespace_selector"),
            &mut report,
        )
        .into_option()?;
        Some(Selection {
            kind: PROMETHEUS_RULE,
            selector,
            namespace_selector,
        })
    }

    fn take_selected(m: &mut RuleModel, found: &[LiveObject]) -> Vec<Invalid> {
        let (selected, warnings) = prometheus_rules(found);
        m.prometheus_rules = Input::Known(selected);
        warnings
    }

    fn selection_recorded(m: &RuleModel) -> bool {
        m.prometheus_rule_selector.is_null() || m.prometheus_rules.known().is_some()
    }
}

/// The rule files of the selected PrometheusRule objects by `<namespace>/<name>`, and a warning
/// (at `prometheus_rule_selector`) for each object left out: one whose rules Thanos would
/// refuse, or whose rule file is larger than one ConfigMap shard. prometheus-operator leaves
/// such objects out of a ThanosRuler too (`PrometheusRuleSelector.Select`,
/// `pkg/operator/rules.go`, v0.85.0).
pub fn prometheus_rules(found: &[LiveObject]) -> (BTreeMap<String, String>, Vec<Invalid>) {
    let at = Path::root().attr("prometheus_rule_selector");
    let mut selected = BTreeMap::new();
    let mut report = Report::default();
    for object in found {
        let key = format!("{}/{}", object.key.namespace, object.key.name);
        let spec = object
            .json
            .get("spec")
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        match render::prometheus_rule_file(&spec) {
            Ok(file) => {
                let text = file.to_yaml();
                if text.len() > render::SHARD_BYTES {
                    report.push(
                        &at,
                        "PrometheusRule not federated",
                        format!(
                            "PrometheusRule {key} renders to {} bytes, more than the {} one ConfigMap shard holds; split it into smaller PrometheusRule objects.",
                            text.len(),
                            render::SHARD_BYTES
                        ),
                    );
                    continue;
                }
                selected.insert(key, text);
            }
            Err(errors) => report.push(
                &at,
                "PrometheusRule not federated",
                format!(
                    "PrometheusRule {key} is left out because Thanos would refuse its rules:\n{}",
                    errors
                        .iter()
                        .map(|e| format!("- {e}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            ),
        }
    }
    (selected, report.0)
}

/// The apply-time guard: the PrometheusRules read now must be the ones the plan showed.
fn selection_unchanged(planned: &RuleModel, now: &RuleModel) -> Result<(), Diagnostic> {
    let (Input::Known(planned), Input::Known(now)) =
        (&planned.prometheus_rules, &now.prometheus_rules)
    else {
        return Ok(());
    };
    if planned == now {
        return Ok(());
    }
    let mut changes = Vec::new();
    for (key, text) in now {
        match planned.get(key) {
            None => changes.push(format!("+ {key} (selected since the plan)")),
            Some(before) if before != text => changes.push(format!("~ {key} (its rules changed)")),
            Some(_) => {}
        }
    }
    for key in planned.keys().filter(|k| !now.contains_key(*k)) {
        changes.push(format!("- {key} (no longer selected)"));
    }
    Err(Diagnostic::error(
        "PrometheusRule selection changed since the plan",
        format!(
            "The PrometheusRule objects read now differ from the ones the plan showed, so nothing was applied. Run `terraform plan` (or apply) again to review them.\n\n{}",
            changes.join("\n")
        ),
    ))
}

/// Every rule of a `thanos_rule`.
pub fn validate(m: &RuleModel, r: &mut Report) -> Option<RuleSpec> {
    let root = Path::root();
    let common = shared::common(
        &m.common,
        r,
        shared::Rules {
            kind: thanos_render::meta::Kind::Rule,
            derived: &render::derived_names,
            deny: &[DENY_ALWAYS, render::DENY_RULE],
            mounts: render::MOUNT_PATHS,
        },
    );
    let replicas = checks::replicas(r, &root.attr("replicas"), &m.replicas);
    let resources = blocks::resources(&m.resources, &root.attr("resources"), r);
    let query_endpoints = query_endpoints(r, &root.attr("query_endpoints"), &m.query_endpoints);
    let alertmanagers = alertmanagers(r, &root.attr("alertmanagers"), &m.alertmanagers);
    let alert_query_url =
        checks::string(r, &root.attr("alert_query_url"), &m.alert_query_url, |u| {
            let ok = (u.starts_with("http://") || u.starts_with("https://"))
                && !u.chars().any(char::is_whitespace)
                && u.split("://").nth(1).is_some_and(|rest| !rest.is_empty());
            ok.then_some(()).ok_or((
                "Invalid alert_query_url",
                format!("{u:?} must be an http:// or https:// URL of the Thanos Query UI"),
            ))
        });
    let replica_label = checks::string(r, &root.attr("replica_label"), &m.replica_label, |l| {
        validate::prometheus_label_name(l).map_err(|e| ("Invalid replica_label", e))
    })
    .or(|| render::DEFAULT_REPLICA_LABEL.to_owned());
    let replica = m
        .replica_label
        .known()
        .map_or(render::DEFAULT_REPLICA_LABEL, String::as_str)
        .to_owned();
    let external_labels = checks::map(
        r,
        &root.attr("external_labels"),
        &m.external_labels,
        |k, _| {
            let mut problems = Vec::new();
            if let Err(e) = validate::prometheus_label_name(k) {
                problems.push(("Invalid external label", e));
            } else if k.starts_with("__") {
                problems.push((
                    "Invalid external label",
                    format!("{k:?}: label names starting with \"__\" are reserved by Prometheus"),
                ));
            }
            if k == replica {
                problems.push((
                    "External label is the replica label",
                    format!(
                        "{k:?} is the replica label: the ruler sets it to the pod name on its own; choose another name (or another replica_label)"
                    ),
                ));
            }
            problems
        },
    );
    let evaluation_interval =
        checks::duration(r, &root.attr("evaluation_interval"), &m.evaluation_interval);
    let retention = checks::duration(
        r,
        &root.attr("local_tsdb_retention"),
        &m.local_tsdb_retention,
    );
    let on_delete = checks::one_of(
        r,
        &root.attr("pvc_retention_on_delete"),
        &m.pvc_retention_on_delete,
        &["Retain", "Delete"],
    )
    .or(|| DEFAULT_PVC_RETENTION.to_owned());
    let on_scale_down = checks::one_of(
        r,
        &root.attr("pvc_retention_on_scale_down"),
        &m.pvc_retention_on_scale_down,
        &["Retain", "Delete"],
    )
    .or(|| DEFAULT_PVC_RETENTION.to_owned());
    let data_volume = blocks::data_volume(&m.data_volume, &root.attr("data_volume"), r);
    let object_storage = blocks::secret_key(
        &m.object_storage_config,
        &root.attr("object_storage_config"),
        r,
    );
    let rule_files = rule_groups(r, &root.attr("rule_groups"), &m.rule_groups);
    let selector = blocks::label_selector(
        &m.prometheus_rule_selector,
        &root.attr("prometheus_rule_selector"),
        r,
    );
    let namespace_selector = blocks::label_selector(
        &m.prometheus_rule_namespace_selector,
        &root.attr("prometheus_rule_namespace_selector"),
        r,
    );
    if m.prometheus_rule_selector.is_null()
        && m.prometheus_rule_namespace_selector.known().is_some()
    {
        r.push(
            &root.attr("prometheus_rule_namespace_selector"),
            "Namespace selector without a PrometheusRule selector",
            "prometheus_rule_namespace_selector only chooses where prometheus_rule_selector searches; set prometheus_rule_selector (`{}` selects every PrometheusRule) or remove it",
        );
    }
    let no_inline = match &m.rule_groups {
        Input::Null => true,
        Input::Known(g) => g.is_empty(),
        Input::Unknown => false,
    };
    if no_inline && m.prometheus_rule_selector.is_null() {
        r.push(
            &root,
            "No rules to evaluate",
            "set rule_groups (inline rule files), prometheus_rule_selector (federate PrometheusRule objects), or both",
        );
    }
    // The selection is what the model records: read now, or as applied (see the module docs).
    let prometheus_rules = match (&m.prometheus_rule_selector, &m.prometheus_rules) {
        (Input::Null, _) => Checked::Unset,
        (Input::Known(_), Input::Known(selected)) => Checked::Known(selected.clone()),
        _ => Checked::Missing,
    };
    Some(RuleSpec {
        common: common.into_value()?,
        replicas: replicas.into_value()?,
        resources: resources.into_value()?,
        query_endpoints: query_endpoints.into_value()?,
        alertmanagers: alertmanagers.into_value()?,
        alert_query_url: alert_query_url.into_option()?,
        external_labels: external_labels.into_value()?,
        replica_label: replica_label.into_value()?,
        evaluation_interval: evaluation_interval.into_option()?,
        local_tsdb_retention: retention.into_option()?,
        data_volume: data_volume.into_value()?,
        object_storage_config: object_storage.into_option()?,
        pvc_retention_on_delete: on_delete.into_value()?,
        pvc_retention_on_scale_down: on_scale_down.into_value()?,
        rule_files: rule_files.into_value()?,
        prometheus_rules: {
            // Both selectors must be valid for a selection to exist at all.
            selector.into_option()?;
            namespace_selector.into_option()?;
            prometheus_rules.into_option()?
        },
    })
}

fn query_endpoints(r: &mut Report, p: &Path, v: &Input<Vec<String>>) -> Checked<Vec<String>> {
    if let Input::Known(list) = v
        && list.is_empty()
    {
        r.push(
            p,
            "No query endpoint",
            "list at least one Thanos Query endpoint the rules are evaluated through, e.g. [thanos_query.global.http_url]",
        );
        return Checked::Missing;
    }
    checks::unique_strings(r, p, v, "query endpoint", |e| {
        render::query_endpoint(e).map_err(|e| ("Invalid query endpoint", e))
    })
    .required(r, p)
}

fn alertmanagers(
    r: &mut Report,
    path: &Path,
    v: &Input<Vec<AlertmanagerModel>>,
) -> Checked<Vec<Alertmanager>> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut index = 0;
    checks::list(r, path, v, |am, p, r| {
        let i = index;
        index += 1;
        if let Some(url) = am.url.known()
            && let Some(first) = seen.insert(url.clone(), i)
        {
            r.push(
                &p.attr("url"),
                "Duplicate Alertmanager",
                format!("{url:?} is already alertmanagers[{first}]; alerts would be sent twice"),
            );
        }
        alertmanager(am, p, r)
    })
}

fn alertmanager(am: &AlertmanagerModel, p: &Path, r: &mut Report) -> Checked<Alertmanager> {
    let url = checks::parsed(r, &p.attr("url"), &am.url, |u| {
        render::alertmanager_address(u)
            .map(|a| (u.to_owned(), a))
            .map_err(|e| ("Invalid Alertmanager URL", e))
    })
    .required(r, &p.attr("url"));
    if let Checked::Known((_, address)) = &url
        && address.scheme != "https"
    {
        for (attr, v) in [
            ("secret_name", &am.secret_name),
            ("client_secret_name", &am.client_secret_name),
            ("server_name", &am.server_name),
        ] {
            if v.known().is_some() {
                r.push(
                    &p.attr(attr),
                    "TLS setting without TLS",
                    format!(
                        "{attr} only applies to an https:// Alertmanager URL; this one is {}://",
                        address.scheme
                    ),
                );
            }
        }
    }
    if am.secret_name.is_null() && am.ca_key.known().is_some() {
        r.push(
            &p.attr("ca_key"),
            "Unused TLS setting",
            "ca_key names the CA's key in secret_name: set secret_name too",
        );
    }
    let timeout = checks::duration(r, &p.attr("timeout"), &am.timeout);
    let secret = checks::string(r, &p.attr("secret_name"), &am.secret_name, |n| {
        validate::dns_subdomain(n).map_err(|e| ("Invalid Secret name", e))
    });
    let ca_key = checks::string(r, &p.attr("ca_key"), &am.ca_key, |k| {
        validate::config_key(k).map_err(|e| ("Invalid ca_key", e))
    });
    let client = checks::string(
        r,
        &p.attr("client_secret_name"),
        &am.client_secret_name,
        |n| validate::dns_subdomain(n).map_err(|e| ("Invalid Secret name", e)),
    );
    let server_name = checks::string(r, &p.attr("server_name"), &am.server_name, |n| {
        validate::host(n).map_err(|e| ("Invalid server_name", e))
    });
    let bp = p.attr("basic_auth");
    let basic_auth = checks::block(&am.basic_auth, |b| {
        let username = checks::string(r, &bp.attr("username"), &b.username, |u| {
            if u.is_empty() || u.contains(':') {
                Err((
                    "Invalid username",
                    format!("{u:?}: a basic-auth user name is not empty and has no ':'"),
                ))
            } else {
                Ok(())
            }
        })
        .required(r, &bp.attr("username"));
        let secret = checks::string(r, &bp.attr("secret_name"), &b.secret_name, |n| {
            validate::dns_subdomain(n).map_err(|e| ("Invalid Secret name", e))
        })
        .required(r, &bp.attr("secret_name"));
        let key = checks::string(r, &bp.attr("password_key"), &b.password_key, |k| {
            validate::config_key(k).map_err(|e| ("Invalid password_key", e))
        })
        .or(|| render::DEFAULT_PASSWORD_KEY.to_owned());
        Checked::all(|| {
            Some(BasicAuth {
                username: username.into_value()?,
                password: thanos_render::common::SecretKeyRef {
                    name: secret.into_value()?,
                    key: key.into_value()?,
                },
            })
        })
    });
    Checked::all(|| {
        let ca_key = ca_key.into_option()?;
        let ca = secret
            .into_option()?
            .map(|name| thanos_render::common::SecretKeyRef {
                name,
                key: ca_key.unwrap_or_else(|| render::DEFAULT_CA_KEY.to_owned()),
            });
        Some(Alertmanager {
            url: url.into_value()?.0,
            timeout: timeout.into_option()?,
            ca,
            client_secret_name: client.into_option()?,
            server_name: server_name.into_option()?,
            basic_auth: basic_auth.into_option()?,
        })
    })
}

/// The inline rule files: names usable as file names, each file checked as Thanos checks it
/// (errors at `rule_groups["<name>"]`, naming the group, rule and field), all of them fitting
/// one ConfigMap.
fn rule_groups(
    r: &mut Report,
    p: &Path,
    v: &Input<BTreeMap<String, String>>,
) -> Checked<BTreeMap<String, RuleFile>> {
    let files = match v {
        Input::Known(files) => files,
        Input::Null => return Checked::Known(BTreeMap::new()),
        Input::Unknown => return Checked::Missing,
    };
    let before = r.0.len();
    let mut out = BTreeMap::new();
    let mut size = 0;
    for (name, text) in files {
        let at = p.key(name);
        let name_ok = !name.is_empty()
            && !name.starts_with('.')
            && name.len() <= 200
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !name_ok {
            r.push(
                &at,
                "Invalid rule file name",
                format!(
                    "{name:?} names the file {name}.yaml in a ConfigMap: use letters, digits, '-', '_' and '.', not starting with '.', at most 200 characters"
                ),
            );
        }
        match rules::check_rule_file(text) {
            Ok(file) => {
                size += name.len() + file.to_yaml().len();
                out.insert(name.clone(), file);
            }
            Err(errors) => {
                for e in errors {
                    r.0.push(e.to_invalid(at.0.clone()));
                }
            }
        }
    }
    if size > render::INLINE_BYTES {
        r.push(
            p,
            "Rule files too large",
            format!(
                "the inline rule files take {size} bytes, more than the {} bytes one ConfigMap holds; move some rules into PrometheusRule objects (selected with prometheus_rule_selector, which spreads them over several ConfigMaps)",
                render::INLINE_BYTES
            ),
        );
    }
    if r.0.len() == before {
        Checked::Known(out)
    } else {
        Checked::Missing
    }
}
