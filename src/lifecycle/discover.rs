//! Discovering the members of selector hashrings (receive): at plan time when the cluster can
//! be reached (so the plan shows them), at apply time always (so the ring written is the one
//! the plan showed, or the apply stops).

use tfplugin::framework::{Context, Diagnostic};
use thanos_render::receive::Discovered;

use super::{Env, Kind, failure};

/// Whether discovery must reach the cluster.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// A plan: without a cluster (or on any error) rings stay "known after apply"; a ring
    /// with no member yet is left out so it plans as "known after apply" too.
    BestEffort,
    /// An apply: every ring must be discovered, an empty one included.
    Required,
}

/// The members of every selector ring of `model`, by ring name.
pub async fn rings<K: Kind>(
    env: &Env,
    model: &K::Model,
    namespace: &str,
    context: &Context,
    need: Need,
) -> Result<Discovered, Diagnostic> {
    let rings = K::selector_rings(model);
    let mut found = Discovered::new();
    if rings.is_empty() {
        return Ok(found);
    }
    if need == Need::BestEffort && !env.clusters.is_configured() {
        return Ok(found);
    }
    let cluster = match env.clusters.cluster().await {
        Ok(c) => c,
        Err(_) if need == Need::BestEffort => return Ok(found),
        Err(message) => {
            return Err(Diagnostic::error(
                format!("Cannot discover hashring members of {}", K::TYPE_NAME),
                message,
            ));
        }
    };
    for (name, selector) in rings {
        match cluster
            .discover_ring(namespace, &selector, &context.cancel)
            .await
        {
            Ok(endpoints) if endpoints.is_empty() && need == Need::BestEffort => {}
            Ok(endpoints) => {
                found.insert(name, endpoints);
            }
            Err(e) if need == Need::BestEffort => {
                tracing::warn!(ring = %name, error = %e, "hashring discovery failed; planning the ring as known after apply");
            }
            Err(e) => {
                return Err(failure(
                    format!("Cannot discover the members of hashring {name:?}"),
                    e,
                ));
            }
        }
    }
    Ok(found)
}
