//! What only the cluster knows, read when the cluster can be reached at plan time (so the plan
//! shows it) and always at apply time (so what is written is what the plan showed, or the
//! apply stops): the members of selector hashrings (receive), and the objects of other tools a
//! resource selects by labels (a ruler's PrometheusRules).

use tfplugin::framework::{Context, Diagnostic, Diagnostics};
use thanos_render::receive::Discovered;

use super::{Env, Kind, diagnostics, failure};

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

/// What reading a resource's selection did.
#[derive(Default)]
pub struct Selected {
    /// Whether the selection was read into the model (else its computed attributes stay as the
    /// plan had them: unknown, or the prior state's).
    pub read: bool,
    /// Warnings: objects left out and why, a kind the cluster does not serve, a plan that could
    /// not read the cluster.
    pub diagnostics: Diagnostics,
}

/// Reads the objects [`Kind::selection`] picks into `model` ([`Kind::take_selected`]). A plan
/// reads best effort: without a cluster nothing is read and nothing is said (planning before
/// the cluster exists); a cluster that cannot be read is a warning. An apply must read.
pub async fn selected<K: Kind>(
    env: &Env,
    model: &mut K::Model,
    namespace: &str,
    context: &Context,
    need: Need,
) -> Result<Selected, Diagnostic> {
    let Some(selection) = K::selection(model) else {
        return Ok(Selected::default());
    };
    let what = format!(
        "the {} objects this {} selects",
        selection.kind.kind,
        K::TYPE_NAME
    );
    if need == Need::BestEffort && !env.clusters.is_configured() {
        return Ok(Selected::default());
    }
    let unread = |detail: String| {
        Selected {
        read: false,
        diagnostics: Diagnostic::warning(
            format!("Could not read {what}"),
            format!(
                "{detail}\n\nThe plan shows them as the last apply recorded them (known after apply when the configuration changed); the apply reads them again."
            ),
        )
        .into(),
    }
    };
    let cluster = match env.clusters.cluster().await {
        Ok(c) => c,
        Err(message) if need == Need::BestEffort => return Ok(unread(message)),
        Err(message) => {
            return Err(Diagnostic::error(format!("Cannot read {what}"), message));
        }
    };
    let found = match cluster.select(namespace, &selection, &context.cancel).await {
        Ok(found) => found,
        Err(e) if need == Need::BestEffort => return Ok(unread(e.to_string())),
        Err(e) => return Err(failure(format!("Cannot read {what}"), e)),
    };
    let mut out = Selected {
        read: true,
        diagnostics: Diagnostics::new(),
    };
    let found = found.unwrap_or_else(|| {
        out.diagnostics.push(Diagnostic::warning(
            format!(
                "The cluster does not serve {} ({})",
                selection.kind.kind,
                selection.kind.api_version()
            ),
            format!(
                "Its CustomResourceDefinition is not installed, so this {} selects none; install it to select them.",
                K::TYPE_NAME
            ),
        ));
        Vec::new()
    });
    let warnings = K::take_selected(model, &found);
    out.diagnostics.extend(diagnostics(&warnings, true));
    Ok(out)
}
