//! Container arguments: merging the user's `extra_args` into the rendered ones.
//!
//! Rules (documented for users on every resource's `extra_args`):
//! - `extra_args` are appended after the rendered arguments, in the order given.
//! - Every entry must be a flag (`--name` or `--name=value`); positional arguments would change
//!   the Thanos subcommand and are refused.
//! - A user flag `--x` or `--x=v` replaces every rendered flag named `--x` (e.g.
//!   `--log.level=debug` replaces the one rendered from `log_level`), except for the repeatable
//!   flags in [`REPEATABLE`], which are simply appended next to ours.
//! - Flags that would break what the provider manages (listen addresses, data directory,
//!   mounted config files, the hashring of an ingestor) are refused with an explanation:
//!   see the per-resource deny lists.

use crate::validate::{Path, Report};

/// Flags Thanos accepts several times; user values are added to ours, never replace them.
pub const REPEATABLE: &[&str] = &[
    "--label",
    "--selector-label",
    "--query.replica-label",
    "--endpoint",
    "--endpoint-strict",
    "--endpoint-group",
    "--endpoint-group-strict",
    "--store",
    "--store-strict",
    "--deduplication.replica-label",
    "--receive.tenant-certificate-field",
];

/// A flag the user may not set, and why.
pub struct Denied {
    pub flag: &'static str,
    pub why: &'static str,
}

/// Denied on every Thanos container.
pub const DENY_ALWAYS: &[Denied] = &[
    Denied {
        flag: "--grpc-address",
        why: "the gRPC listen address is managed: Services, probes and the hashring point at port 10901 on the pod IP",
    },
    Denied {
        flag: "--http-address",
        why: "the HTTP listen address is managed: Services and the liveness/readiness probes use port 10902 on the pod IP",
    },
];

/// The flag name of an argument (`--a.b=c` → `--a.b`).
pub fn flag_name(arg: &str) -> &str {
    arg.split_once('=').map_or(arg, |(n, _)| n)
}

/// Validates `extra_args` (at `path`) against the deny lists.
pub fn validate_extra_args(r: &mut Report, path: &Path, extra: &[String], deny: &[&[Denied]]) {
    for (i, a) in extra.iter().enumerate() {
        let p = path.index(i);
        let name = flag_name(a);
        if !name.starts_with("--") || name.len() < 3 {
            r.push(
                &p,
                "Invalid extra argument",
                format!(
                    "{a:?} is not a flag: each entry must be \"--name\" or \"--name=value\" (the Thanos subcommand and positional arguments are managed)"
                ),
            );
            continue;
        }
        if let Some(d) = deny.iter().flat_map(|d| d.iter()).find(|d| d.flag == name) {
            r.push(
                &p,
                "Managed flag in extra_args",
                format!("{name} cannot be set in extra_args: {}.", d.why),
            );
        }
    }
}

/// Appends `extra` to `rendered`; non-repeatable user flags replace rendered flags of the same
/// name. The first rendered argument (the subcommand) is always kept.
pub fn merge_extra_args(rendered: Vec<String>, extra: &[String]) -> Vec<String> {
    if extra.is_empty() {
        return rendered;
    }
    let replaced: Vec<&str> = extra
        .iter()
        .map(|a| flag_name(a))
        .filter(|n| !REPEATABLE.contains(n))
        .collect();
    let mut out: Vec<String> = rendered
        .into_iter()
        .enumerate()
        .filter(|(i, a)| *i == 0 || !replaced.contains(&flag_name(a)))
        .map(|(_, a)| a)
        .collect();
    out.extend(extra.iter().cloned());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_flag_replaces_rendered_flag_of_same_name() {
        let rendered = vec![
            "query".to_owned(),
            "--log.level=info".to_owned(),
            "--query.replica-label=a".to_owned(),
        ];
        let extra = vec![
            "--log.level=debug".to_owned(),
            "--query.replica-label=b".to_owned(),
            "--query.auto-downsampling".to_owned(),
        ];
        assert_eq!(
            merge_extra_args(rendered, &extra),
            [
                "query",
                "--query.replica-label=a",
                "--log.level=debug",
                "--query.replica-label=b",
                "--query.auto-downsampling"
            ]
        );
    }
}
