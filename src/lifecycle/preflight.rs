//! Preflight at plan time: what a configuration needs to find in the cluster before anything
//! is applied, checked while the plan can still say so (a query's TLS Secrets). The kind names
//! the Secrets it needs ([`super::Kind::preflight_secrets`]) and judges what was read
//! ([`super::Kind::preflight`], pure, the clock passed in); this module only reads.
//!
//! Best effort, like hashring discovery at plan: a plan without a configured cluster, a
//! cluster that cannot be reached, or a Secret the provider's credentials may not read skips
//! the whole check without a diagnostic (logged for `TF_LOG=debug`), so an offline plan says
//! nothing about it. A Secret that does not exist is a finding: it is read as "absent".

use std::collections::BTreeMap;
use std::time::SystemTime;

use tfplugin::framework::Context;
use thanos_render::validate::Invalid;

use super::{Env, Kind};

/// A Secret a configuration needs: `namespace/name`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SecretRef {
    pub namespace: String,
    pub name: String,
}

impl SecretRef {
    pub fn new(namespace: &str, name: &str) -> Self {
        SecretRef {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }
    }
}

impl std::fmt::Display for SecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// The data of a Secret by key (decoded bytes).
pub type SecretData = BTreeMap<String, Vec<u8>>;

/// What the cluster holds of each Secret asked for: `None` when it does not exist.
pub type Secrets = BTreeMap<SecretRef, Option<SecretData>>;

/// What a preflight found: errors stop the plan, warnings are shown with it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Findings {
    pub errors: Vec<Invalid>,
    pub warnings: Vec<Invalid>,
}

/// Reads the Secrets `spec` needs and hands them to the kind's check. Findings are empty when
/// the check was skipped (see the module docs).
pub async fn run<K: Kind>(env: &Env, spec: &K::Spec, context: &Context) -> Findings {
    let wanted = K::preflight_secrets(spec);
    if wanted.is_empty() || !env.clusters.is_configured() {
        return Findings::default();
    }
    let cluster = match env.clusters.cluster().await {
        Ok(c) => c,
        Err(why) => {
            tracing::debug!(%why, "no cluster: the preflight checks are skipped");
            return Findings::default();
        }
    };
    let mut secrets = Secrets::new();
    for r in wanted {
        if secrets.contains_key(&r) {
            continue;
        }
        match cluster.secret(&r.namespace, &r.name, &context.cancel).await {
            Ok(data) => {
                secrets.insert(r, data);
            }
            Err(e) => {
                tracing::debug!(secret = %r, error = %e, "cannot read a Secret: the preflight checks are skipped");
                return Findings::default();
            }
        }
    }
    K::preflight(spec, &secrets, SystemTime::now())
}
