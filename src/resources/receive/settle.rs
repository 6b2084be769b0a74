//! What a plan decides when the configuration leaves it out and the answer depends on what
//! was applied before: a hashring's `algorithm`, the pods' `termination_grace_period_seconds`
//! and how routers load a ring change (`router.hashrings_reload`).
//! New rings and receives get today's defaults; what an earlier provider version applied
//! keeps its behaviour (a provider upgrade never moves series or changes how pods stop), and
//! the plan says so; what this version applied keeps what it was applied with.

use tfplugin::framework::Input;
use thanos_render::placement::Algorithm;
use thanos_render::receive::{DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS, Mode, Reload};
use thanos_render::validate::{Invalid, Path};

use super::{HashringModel, ReceiveModel};

/// Settles both attributes of `planned` (see the module docs); returns the plan's warnings.
pub fn settle(
    planned: &mut ReceiveModel,
    config: &ReceiveModel,
    prior: Option<&ReceiveModel>,
) -> Vec<Invalid> {
    let mut warnings = Vec::new();
    grace_period(planned, config, prior, &mut warnings);
    algorithms(planned, config, prior, &mut warnings);
    reload(planned, config, prior, &mut warnings);
    warnings
}

/// `router.hashrings_reload` the configuration leaves out: what it was applied with, `restart`
/// for a router applied before the attribute existed (its pods roll on a ring change, as
/// they did), `in_place` for a new router without ingestor; a router + ingestor restarts.
fn reload(
    planned: &mut ReceiveModel,
    config: &ReceiveModel,
    prior: Option<&ReceiveModel>,
    warnings: &mut Vec<Invalid>,
) {
    let mode = super::mode(planned);
    let (Input::Known(router), Input::Known(written)) = (&mut planned.router, &config.router)
    else {
        return;
    };
    if !written.hashrings_reload.is_null() {
        return;
    }
    let applied = prior
        .and_then(|p| p.router.known())
        .map(|r| r.hashrings_reload.known().cloned());
    router.hashrings_reload = Input::Known(match (mode, applied) {
        (Some(Mode::RouterIngestor), _) => Reload::Restart.as_str().to_owned(),
        (_, None) => Reload::InPlace.as_str().to_owned(),
        (_, Some(Some(applied))) => applied,
        (_, Some(None)) => {
            warnings.push(Invalid {
                path: Path::root().attr("router").attr("hashrings_reload").0,
                summary: "This router keeps restarting on ring changes".into(),
                detail: "This router was applied by a provider version that rolled its pods \
                         whenever a hashring changed, so hashrings_reload is set to \
                         \"restart\" and nothing rolls now. Set hashrings_reload = \
                         \"in_place\" to have the pods re-read the file instead (they roll \
                         once, for the switch); new routers default to it."
                    .into(),
            });
            Reload::Restart.as_str().to_owned()
        }
    });
}

fn grace_period(
    planned: &mut ReceiveModel,
    config: &ReceiveModel,
    prior: Option<&ReceiveModel>,
    warnings: &mut Vec<Invalid>,
) {
    if !config.termination_grace_period_seconds.is_null() {
        return;
    }
    planned.termination_grace_period_seconds =
        match prior.map(|p| &p.termination_grace_period_seconds) {
            None => Input::Known(DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS),
            Some(Input::Known(applied)) => Input::Known(*applied),
            Some(_) => {
                warnings.push(Invalid {
                    path: Path::root().attr("termination_grace_period_seconds").0,
                    summary: "This receive keeps how it was rendered before".into(),
                    detail: format!(
                        "This receive was applied by a provider version that left its pods \
                         Kubernetes' default grace period (30 seconds: an ingestor may be \
                         killed before it has flushed and uploaded its head). It keeps that \
                         until you set termination_grace_period_seconds (new receives get \
                         {DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS}); then the pods roll once."
                    ),
                });
                Input::Null
            }
        };
}

/// Each ring's `algorithm` the configuration leaves out: the one it was applied with, found by
/// ring name (`hashmod` when that was before the attribute existed), `ketama` for a new ring.
fn algorithms(
    planned: &mut ReceiveModel,
    config: &ReceiveModel,
    prior: Option<&ReceiveModel>,
    warnings: &mut Vec<Invalid>,
) {
    let (Input::Known(router), Input::Known(written)) = (&mut planned.router, &config.router)
    else {
        return;
    };
    let prior_rings: Vec<&HashringModel> = prior
        .and_then(|p| p.router.known())
        .map(|r| {
            let hard = r.hard_tenant_hashrings.known().into_iter().flatten();
            hard.chain(r.soft_tenant_hashring.known()).collect()
        })
        .unwrap_or_default();
    let base = Path::root().attr("router");
    let mut rings: Vec<(Path, &mut HashringModel, Option<&HashringModel>)> = Vec::new();
    if let (Input::Known(hard), Some(written_hard)) = (
        &mut router.hard_tenant_hashrings,
        written.hard_tenant_hashrings.known(),
    ) {
        for (i, ring) in hard.iter_mut().enumerate() {
            let at = base.attr("hard_tenant_hashrings").index(i);
            rings.push((at, ring, written_hard.get(i)));
        }
    }
    if let Input::Known(soft) = &mut router.soft_tenant_hashring {
        rings.push((
            base.attr("soft_tenant_hashring"),
            soft,
            written.soft_tenant_hashring.known(),
        ));
    }
    for (at, ring, written) in rings {
        if written.is_some_and(|w| !w.algorithm.is_null()) {
            continue;
        }
        let Some(name) = ring.name.known().cloned() else {
            continue;
        };
        let applied = prior_rings
            .iter()
            .find(|p| p.name.known() == Some(&name))
            .map(|p| p.algorithm.known().cloned());
        ring.algorithm = Input::Known(match applied {
            None => Algorithm::Ketama.as_str().to_owned(),
            Some(Some(algorithm)) => algorithm,
            Some(None) => {
                warnings.push(Invalid {
                    path: at.attr("algorithm").0,
                    summary: format!("Hashring {name:?} keeps hashmod"),
                    detail: "This ring was applied by a provider version that always placed \
                             series with hashmod, so algorithm is set to \"hashmod\" and no \
                             series moves. Set algorithm = \"ketama\" to move to consistent \
                             hashing, which moves few series when members join or leave (the \
                             switch itself moves most of them once; the plan says how many). \
                             New rings default to ketama."
                        .into(),
                });
                Algorithm::Hashmod.as_str().to_owned()
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::resources::receive::Receive;
    use crate::testing::{Absent, model};

    fn ring_config() -> serde_json::Value {
        json!({"name": "r", "router": {
            "hard_tenant_hashrings": [{"name": "a", "tenants": ["t"], "endpoints": ["x:1"]}],
            "soft_tenant_hashring": {"name": "s", "endpoints": ["y:1"]},
        }})
    }

    fn algorithms_of(m: &ReceiveModel) -> (Input<String>, Input<String>) {
        let r = m.router.known().unwrap();
        (
            r.hard_tenant_hashrings.known().unwrap()[0]
                .algorithm
                .clone(),
            r.soft_tenant_hashring.known().unwrap().algorithm.clone(),
        )
    }

    fn written(config: &serde_json::Value) -> ReceiveModel {
        crate::lifecycle::decode::<Receive>(&crate::testing::terraform_config::<Receive>(config))
            .unwrap()
    }

    #[test]
    fn new_rings_are_ketama_and_new_receives_get_a_grace_period() {
        let m = model::<Receive>(&ring_config(), Absent::Null);
        let ketama = Input::Known("ketama".to_owned());
        assert_eq!(algorithms_of(&m), (ketama.clone(), ketama));
        assert_eq!(m.termination_grace_period_seconds, Input::Known(900));
        let reload = m.router.known().unwrap().hashrings_reload.clone();
        assert_eq!(reload, Input::Known("in_place".into()));
        // A router + ingestor restarts.
        let mut both = ring_config();
        both["ingestor"] = json!({});
        let m = model::<Receive>(&both, Absent::Null);
        let reload = m.router.known().unwrap().hashrings_reload.clone();
        assert_eq!(reload, Input::Known("restart".into()));
    }

    #[test]
    fn a_state_from_before_keeps_hashmod_and_its_rendering_and_says_so() {
        let config = ring_config();
        let written = written(&config);
        // A state of an earlier version: neither attribute.
        let mut prior = written.clone();
        prior.termination_grace_period_seconds = Input::Null;
        let mut planned = written.clone();
        let warnings = settle(&mut planned, &written, Some(&prior));
        let hashmod = Input::Known("hashmod".to_owned());
        assert_eq!(algorithms_of(&planned), (hashmod.clone(), hashmod));
        assert_eq!(planned.termination_grace_period_seconds, Input::Null);
        assert_eq!(warnings.len(), 4, "{warnings:#?}");
        assert!(warnings[1].summary.contains("\"a\" keeps hashmod"));
        assert!(warnings[3].summary.contains("keeps restarting"));
        let reload = |m: &ReceiveModel| m.router.known().unwrap().hashrings_reload.clone();
        assert_eq!(reload(&planned), Input::Known("restart".into()));

        // What this version applied is kept, whatever today's default.
        let mut applied = planned.clone();
        if let Input::Known(r) = &mut applied.router
            && let Input::Known(s) = &mut r.soft_tenant_hashring
        {
            s.algorithm = Input::Known("ketama".into());
        }
        applied.termination_grace_period_seconds = Input::Known(60);
        let mut again = written.clone();
        assert!(settle(&mut again, &written, Some(&applied)).is_empty());
        assert_eq!(algorithms_of(&again).1, Input::Known("ketama".into()));
        assert_eq!(again.termination_grace_period_seconds, Input::Known(60));
    }

    #[test]
    fn a_new_ring_in_an_old_receive_is_ketama_and_a_written_value_wins() {
        let config = ring_config();
        let written_model = written(&config);
        let mut prior = written_model.clone();
        if let Input::Known(r) = &mut prior.router {
            r.hard_tenant_hashrings = Input::Known(Vec::new());
        }
        let mut planned = written_model.clone();
        settle(&mut planned, &written_model, Some(&prior));
        assert_eq!(algorithms_of(&planned).0, Input::Known("ketama".into()));
        assert_eq!(algorithms_of(&planned).1, Input::Known("hashmod".into()));

        let mut explicit = ring_config();
        explicit["router"]["soft_tenant_hashring"]["algorithm"] = "ketama".into();
        let w = written(&explicit);
        let mut planned = w.clone();
        let warnings = settle(&mut planned, &w, Some(&prior));
        assert_eq!(algorithms_of(&planned).1, Input::Known("ketama".into()));
        assert!(warnings.iter().all(|w| !w.summary.contains("\"s\"")));
    }
}
