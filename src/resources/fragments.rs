//! Schema fragments shared by `thanos_query`, `thanos_receive` and `thanos_storage`, so the
//! three resources spell common settings (and their documentation) the same way.

use tfplugin::framework::{Attribute, Block, NestedBlock, Validator};
use tfvalue::{Type, Value};

/// Image pull policies Kubernetes accepts.
pub const PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];

/// A Kubernetes object name usable as a DNS label (RFC 1123): what every derived object name is
/// built from.
pub fn dns_label() -> Validator {
    Validator::new(
        "must be a lowercase RFC 1123 label: letters, digits and `-`, starting with a letter and ending with a letter or digit",
        |v| {
            let s = v.as_str()?;
            let ok = !s.is_empty()
                && s.len() <= 63
                && s.starts_with(|c: char| c.is_ascii_lowercase())
                && s.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            (!ok).then(|| {
                format!(
                    "{s:?} is not a valid Kubernetes name: use at most 63 lowercase letters, digits and `-`, starting with a letter and ending with a letter or digit."
                )
            })
        },
    )
}

/// Durations in Go's syntax (`30s`, `10m`, `1h30m`), as Terraform's own `timeouts` use them.
pub fn go_duration() -> Validator {
    Validator::new("must be a duration such as `30s`, `10m` or `1h30m`", |v| {
        let s = v.as_str()?;
        (!is_go_duration(s)).then(|| {
            format!("{s:?} is not a duration: write a number followed by a unit (`ms`, `s`, `m`, `h`), e.g. `10m` or `1h30m`.")
        })
    })
}

fn is_go_duration(s: &str) -> bool {
    parse_go_duration(s).is_some()
}

/// Parses a Go duration (`10m`, `1h30m`, `1.5h`, `500ms`); `None` when it is not one.
pub fn parse_go_duration(s: &str) -> Option<std::time::Duration> {
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, seconds) = [
            ("ms", 1e-3),
            ("us", 1e-6),
            ("ns", 1e-9),
            ("h", 3600.0),
            ("m", 60.0),
            ("s", 1.0),
        ]
        .into_iter()
        .find(|(u, _)| rest.starts_with(u))?;
        rest = &rest[unit.len()..];
        total += number * seconds;
    }
    Some(std::time::Duration::from_secs_f64(total))
}

/// `name`, `namespace` and the presentation settings every resource has.
pub fn identity_and_image(kind: &str, object_prefix: &str) -> Vec<Attribute> {
    vec![
        Attribute::string("name")
            .required()
            .requires_replace()
            .validate(dns_label())
            .description(format!(
                "Name of this {kind}. Every Kubernetes object it owns is named after it (`{object_prefix}-<name>...`). Changing it replaces the resource."
            )),
        Attribute::string("namespace")
            .default("default")
            .requires_replace()
            .validate(dns_label())
            .description("Kubernetes namespace of every object this resource owns. Defaults to `default`. Changing it replaces the resource."),
        Attribute::string("image")
            .description("Thanos container image. Defaults to the provider's `default_thanos_image`."),
        Attribute::string("image_pull_policy")
            .validate(Validator::one_of(PULL_POLICIES))
            .description("Image pull policy of the Thanos containers: `Always`, `IfNotPresent` or `Never`. Unset uses the cluster's default."),
        Attribute::string("log_level")
            .validate(Validator::one_of(&["debug", "info", "warn", "error"]))
            .description("Thanos log level (`--log.level`): `debug`, `info`, `warn` or `error`. Unset uses Thanos's default (`info`)."),
        Attribute::string("log_format")
            .validate(Validator::one_of(&["logfmt", "json"]))
            .description("Thanos log format (`--log.format`): `logfmt` or `json`. Unset uses Thanos's default (`logfmt`)."),
        Attribute::string_map("labels")
            .description("Labels added to the metadata of every owned object and pod. Never used in selectors, so changing them never forces a replacement."),
        Attribute::string_map("annotations")
            .description("Annotations added to the metadata of every owned object."),
    ]
}

/// Scheduling settings, honoured on every workload the resource renders.
pub fn placement() -> (Vec<Attribute>, Vec<NestedBlock>) {
    (
        vec![
            Attribute::string_map("node_selector")
                .description("Node labels every pod of this resource must match (`nodeSelector`)."),
            Attribute::string("affinity").description(
                "Pod affinity as a JSON-encoded Kubernetes `Affinity` object, e.g. `jsonencode({ podAntiAffinity = { ... } })`. Unknown fields are rejected at plan time.",
            ),
        ],
        vec![
            NestedBlock::list(
                "tolerations",
                Block::new("A toleration of node taints, as in a Kubernetes pod spec.")
                    .attribute(Attribute::string("key").description("Taint key to tolerate; empty with operator `Exists` tolerates every taint."))
                    .attribute(
                        Attribute::string("operator")
                            .validate(Validator::one_of(&["Exists", "Equal"]))
                            .description("`Equal` (default) or `Exists`."),
                    )
                    .attribute(Attribute::string("value").description("Taint value to match with operator `Equal`."))
                    .attribute(
                        Attribute::string("effect")
                            .validate(Validator::one_of(&["NoSchedule", "PreferNoSchedule", "NoExecute"]))
                            .description("Taint effect to tolerate: `NoSchedule`, `PreferNoSchedule` or `NoExecute`; empty tolerates all."),
                    )
                    .attribute(Attribute::number("toleration_seconds").description("For `NoExecute`: how long the pod stays bound after the taint appears.")),
            ),
            NestedBlock::list(
                "topology_spread_constraints",
                Block::new("Spreads the pods of each workload across a topology domain. The label selector is always the workload's own pod selector.")
                    .attribute(
                        Attribute::number("max_skew")
                            .required()
                            .validate(Validator::int_at_least(1))
                            .description("Largest allowed difference in pod count between two domains."),
                    )
                    .attribute(
                        Attribute::string("topology_key")
                            .required()
                            .description("Node label that defines a domain, e.g. `topology.kubernetes.io/zone`."),
                    )
                    .attribute(
                        Attribute::string("when_unsatisfiable")
                            .default("DoNotSchedule")
                            .validate(Validator::one_of(&["DoNotSchedule", "ScheduleAnyway"]))
                            .description("`DoNotSchedule` (default) or `ScheduleAnyway`."),
                    )
                    .attribute(
                        Attribute::number("min_domains")
                            .validate(Validator::int_at_least(1))
                            .description("Minimum number of eligible domains (with `DoNotSchedule`)."),
                    ),
            ),
        ],
    )
}

/// `resources { requests = {...} limits = {...} }` for one container.
pub fn resources_block(of_what: &str) -> NestedBlock {
    NestedBlock::single(
        "resources",
        Block::new(format!("Compute resources of {of_what}."))
            .attribute(
                Attribute::string_map("requests").description(
                    "Resource requests, e.g. `{ cpu = \"100m\", memory = \"256Mi\" }`.",
                ),
            )
            .attribute(
                Attribute::string_map("limits")
                    .description("Resource limits, e.g. `{ memory = \"1Gi\" }`."),
            ),
    )
}

/// An Ingress in front of one of the resource's ports.
pub fn ingress_block(name: &str, what: &str) -> NestedBlock {
    NestedBlock::single(
        name,
        Block::new(format!(
            "An Ingress exposing {what}. Removing the block deletes the Ingress."
        ))
        .attribute(
            Attribute::string("host")
                .required()
                .validate(Validator::not_empty())
                .description("Host name the Ingress serves."),
        )
        .attribute(
            Attribute::string("path")
                .default("/")
                .description("Path prefix routed to the service. Defaults to `/`."),
        )
        .attribute(
            Attribute::string("secret_name")
                .description("TLS Secret for `host`; unset serves plain HTTP."),
        )
        .attribute(
            Attribute::string("class_name")
                .description("`ingressClassName`; unset uses the cluster's default class."),
        )
        .attribute(
            Attribute::string_map("annotations")
                .description("Annotations of the Ingress, e.g. for the ingress controller."),
        ),
    )
}

/// Storage of a data directory: an `emptyDir` or a per-pod PersistentVolumeClaim.
pub fn data_volume_block(of_what: &str) -> NestedBlock {
    NestedBlock::single(
        "data_volume",
        Block::new(format!(
            "Volume for the data directory of {of_what}. Set `empty_dir` or `pvc`; unset uses an `emptyDir`."
        ))
        .block(NestedBlock::single(
            "empty_dir",
            Block::new("An `emptyDir` volume: data is lost when the pod moves.")
                .attribute(Attribute::string("medium").validate(Validator::one_of(&["", "Memory"])).description("`Memory` for tmpfs; unset uses node storage."))
                .attribute(Attribute::string("size_limit").description("Size limit, e.g. `10Gi`.")),
        ))
        .block(NestedBlock::single(
            "pvc",
            Block::new("A PersistentVolumeClaim per pod (StatefulSet volume claim template).")
                .attribute(Attribute::string("storage_class").description("StorageClass of the claims; unset uses the cluster's default class."))
                .attribute(Attribute::string("size").required().description("Requested size, e.g. `5Gi`. Kubernetes cannot change it in place: a change is planned as a replacement of the StatefulSet (claims are kept)."))
                .attribute(
                    Attribute::string_list("access_modes")
                        .default(Value::list(["ReadWriteOnce"]))
                        .description("Access modes of the claims. Defaults to `[\"ReadWriteOnce\"]`."),
                ),
        )),
    )
}

/// `object_storage_config { name, key }`: the Secret key holding a Thanos objstore config.
pub fn object_storage_block(required: bool, used_by: &str) -> NestedBlock {
    let block = NestedBlock::single(
        "object_storage_config",
        Block::new(format!(
            "The Secret key holding the Thanos object storage configuration (objstore YAML) used by {used_by}."
        ))
        .attribute(Attribute::string("name").required().validate(dns_label()).description("Name of the Secret, in the resource's namespace."))
        .attribute(Attribute::string("key").required().validate(Validator::not_empty()).description("Key in the Secret, e.g. `objstore.yaml`.")),
    );
    if required { block.required() } else { block }
}

/// Settings every resource has about how it is applied, and its computed identity.
pub fn lifecycle() -> (Vec<Attribute>, Vec<NestedBlock>) {
    let object = Type::object([
        ("api_version", Type::String),
        ("kind", Type::String),
        ("namespace", Type::String),
        ("name", Type::String),
        ("hash", Type::String),
    ]);
    (
        vec![
            Attribute::string_list("extra_args")
                .description("Extra Thanos command-line flags, appended after the rendered ones. A flag that the provider also renders (same `--name`) replaces the rendered one; flags the provider must control (listen addresses, data and config paths) are rejected at plan time."),
            Attribute::bool("wait_for_rollout")
                .default(true)
                .description("Wait until every workload has rolled out and its pods are Ready. Defaults to `true`. A rollout that cannot finish fails early with the Kubernetes reason (e.g. `ImagePullBackOff`)."),
            Attribute::bool("force_conflicts")
                .default(false)
                .description("Take over fields another field manager (e.g. `kubectl`) owns on our objects instead of failing with a conflict. Defaults to `false`."),
            Attribute::bool("adopt_existing")
                .default(false)
                .description("Adopt objects that already exist with our names but were not created by this provider, instead of failing. Defaults to `false`."),
            Attribute::string("id")
                .computed()
                .use_state_for_unknown()
                .description("`<namespace>/<name>`, also the import ID."),
            Attribute::new("objects", Type::list(object))
                .computed()
                .description("Every Kubernetes object this resource owns, in apply order, with a hash of its rendered content, so that a plan shows which objects change."),
        ],
        vec![NestedBlock::single(
            "timeouts",
            Block::new("How long create, update and delete may wait for the cluster.")
                .attribute(Attribute::string("create").validate(go_duration()).description("Timeout of a create, e.g. `10m`. Defaults to `10m`."))
                .attribute(Attribute::string("update").validate(go_duration()).description("Timeout of an update. Defaults to `10m`."))
                .attribute(Attribute::string("delete").validate(go_duration()).description("Timeout of a delete. Defaults to `5m`.")),
        )],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse() {
        assert_eq!(
            parse_go_duration("10m"),
            Some(std::time::Duration::from_secs(600))
        );
        assert_eq!(
            parse_go_duration("1h30m"),
            Some(std::time::Duration::from_secs(5400))
        );
        assert_eq!(parse_go_duration("1d"), None);
    }

    #[test]
    fn go_durations() {
        for ok in ["10m", "1h30m", "30s", "1.5h", "500ms"] {
            assert!(is_go_duration(ok), "{ok}");
        }
        for bad in ["", "10", "m", "10 m", "1d", "-5m"] {
            assert!(!is_go_duration(bad), "{bad}");
        }
    }

    #[test]
    fn dns_labels() {
        let v = dns_label();
        assert!((v.check)(&Value::from("ingestor-1")).is_none());
        for bad in ["Ingestor", "1abc", "a_b", "abc-", ""] {
            assert!((v.check)(&Value::from(bad)).is_some(), "{bad}");
        }
    }
}
