//! Receive's hashrings: the router block's rules, the rings a plan shows (static members, and
//! selected ones once discovered), which rings the cluster is asked about, what a state
//! records as applied, and the apply-time guard that never writes a ring the plan did not show.

use std::collections::BTreeMap;

use tfplugin::framework::{Diagnostic, Input};
use thanos_render::receive::{self as render, Discovered, Hashring, Members, RingSelector, Router};
use thanos_render::validate::{self, Path, Report};

use super::{HashringModel, ReceiveModel, RingEntry, RouterModel};
use crate::resources::blocks;
use crate::resources::checks::{self, Checked};

/// The validated router of `m`, if its block is set, known and valid (problems are not
/// reported here: validation reports them).
pub fn router(m: &ReceiveModel) -> Option<Router> {
    validate_router(m.router.known()?, &mut Report::default()).into_value()
}

/// The rings the plan shows: every ring, with the discovered members of selector rings.
/// `None` while that cannot be decided yet (a ring not discovered yet, a value not known).
pub fn planned(m: &ReceiveModel, discovered: &Discovered) -> Option<Vec<RingEntry>> {
    let entries = match &m.router {
        Input::Null => Vec::new(),
        Input::Unknown => return None,
        Input::Known(_) => render::hashrings(&router(m)?, discovered).ok()?,
    };
    Some(
        entries
            .into_iter()
            .map(|e| RingEntry {
                name: e.name,
                tenants: e.tenants,
                endpoints: e.endpoints,
            })
            .collect(),
    )
}

/// The rings whose members are discovered from the cluster.
pub fn selector_rings(m: &ReceiveModel) -> Vec<(String, RingSelector)> {
    let Some(router) = router(m) else {
        return Vec::new();
    };
    router
        .rings()
        .into_iter()
        .filter_map(|(_, ring)| match &ring.members {
            Members::Selected(s) => Some((ring.name.clone(), s.clone())),
            Members::Static(_) => None,
        })
        .collect()
}

/// The members a state records as applied, by ring name.
pub fn applied(m: &ReceiveModel) -> Option<Discovered> {
    Some(
        m.hashrings
            .known()?
            .iter()
            .map(|r| (r.name.clone(), r.endpoints.clone()))
            .collect(),
    )
}

/// The plan showed these members: never write a ring the plan did not show.
pub fn unchanged_since_plan(planned: &ReceiveModel, now: &ReceiveModel) -> Result<(), Diagnostic> {
    let (Input::Known(planned), Input::Known(now)) = (&planned.hashrings, &now.hashrings) else {
        return Ok(());
    };
    if planned == now {
        return Ok(());
    }
    Err(Diagnostic::error(
        "Hashring membership changed since the plan",
        format!(
            "The members discovered now differ from the ones the plan showed, so nothing was applied. \
             Plan again (terraform plan, tofu plan or pulumi preview) to review the new membership.\n\nPlanned: {}\nNow: {}",
            summary(planned),
            summary(now)
        ),
    )
    .at(tfvalue::AttributePath::root().attr("hashrings")))
}

fn summary(rings: &[RingEntry]) -> String {
    rings
        .iter()
        .map(|r| format!("{} = [{}]", r.name, r.endpoints.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The router block's rules.
pub fn validate_router(router: &RouterModel, r: &mut Report) -> Checked<Router> {
    let p = Path::root().attr("router");
    let refresh = checks::duration(
        r,
        &p.attr("hashrings_refresh_interval"),
        &router.hashrings_refresh_interval,
    );
    let rf = checks::int(
        r,
        &p.attr("replication_factor"),
        &router.replication_factor,
        |n| {
            if (1..=i64::from(i32::MAX)).contains(&n) {
                Ok(())
            } else {
                Err((
                    "Invalid replication_factor",
                    format!("{n} must be at least 1"),
                ))
            }
        },
    )
    .or(|| 1);
    let ingress = blocks::ingress(
        &router.remote_write_ingress,
        &p.attr("remote_write_ingress"),
        r,
    );
    if router
        .hard_tenant_hashrings
        .known()
        .is_some_and(Vec::is_empty)
        && router.soft_tenant_hashring.is_null()
    {
        r.push(
            &p,
            "Router without a hashring",
            "a router needs at least one hashring to forward writes to: set soft_tenant_hashring (all tenants) or hard_tenant_hashrings",
        );
    }
    let replication = router.replication_factor.known().copied().unwrap_or(1);
    let mut names: BTreeMap<String, Path> = BTreeMap::new();
    let mut tenants: BTreeMap<String, Path> = BTreeMap::new();
    let mut seen = Seen {
        names: &mut names,
        tenants: &mut tenants,
        replication,
    };
    let hard = checks::list(
        r,
        &p.attr("hard_tenant_hashrings"),
        &router.hard_tenant_hashrings,
        |ring, path, r| hashring(ring, path, false, &mut seen, r),
    );
    let soft = checks::block(&router.soft_tenant_hashring, |ring| {
        hashring(ring, &p.attr("soft_tenant_hashring"), true, &mut seen, r)
    });
    Checked::all(|| {
        Some(Router {
            hashrings_refresh_interval: refresh.into_option()?,
            replication_factor: rf.into_value()?,
            remote_write_ingress: ingress.into_option()?,
            hard_tenant_hashrings: hard.into_value()?,
            soft_tenant_hashring: soft.into_option()?,
        })
    })
}

/// What the rings of one router must not repeat.
struct Seen<'a> {
    names: &'a mut BTreeMap<String, Path>,
    tenants: &'a mut BTreeMap<String, Path>,
    replication: i64,
}

fn hashring(
    ring: &HashringModel,
    path: &Path,
    soft: bool,
    seen: &mut Seen<'_>,
    r: &mut Report,
) -> Checked<Hashring> {
    let name = checks::string(r, &path.attr("name"), &ring.name, |n| {
        if n.is_empty() {
            return Err((
                "Invalid hashring name",
                "the name must not be empty".to_owned(),
            ));
        }
        if let Some(first) = seen.names.get(n) {
            return Err((
                "Duplicate hashring name",
                format!(
                    "{n:?} is already the name of {}",
                    validate::display_path(&first.0)
                ),
            ));
        }
        seen.names.insert(n.to_owned(), path.clone());
        Ok(())
    })
    .required(r, &path.attr("name"));
    match (&ring.tenants, soft) {
        (Input::Known(t), false) if t.is_empty() => r.push(
            &path.attr("tenants"),
            "Hard hashring without tenants",
            "a hard tenant hashring must list its tenants; use soft_tenant_hashring for the ring that takes every other tenant",
        ),
        (Input::Known(t), true) if !t.is_empty() => r.push(
            &path.attr("tenants"),
            "Soft hashring with tenants",
            "the soft tenant hashring takes every tenant no hard hashring lists, so it must not list tenants",
        ),
        _ => {}
    }
    if let Some(ts) = ring.tenants.known() {
        for (i, t) in ts.iter().enumerate() {
            let tp = path.attr("tenants").index(i);
            if t.is_empty() {
                r.push(&tp, "Invalid tenant", "a tenant must not be empty");
            } else if let Some(first) = seen.tenants.get(t) {
                r.push(
                    &tp,
                    "Tenant in two places",
                    format!(
                        "tenant {t:?} is already listed at {}; Thanos would only ever use the first ring",
                        validate::display_path(&first.0)
                    ),
                );
            } else {
                seen.tenants.insert(t.clone(), tp);
            }
        }
    }
    let tenants = checks::known_list(&ring.tenants);
    let members = members(ring, path, seen.replication, r);
    Checked::all(|| {
        Some(Hashring {
            name: name.into_value()?,
            tenants: tenants.into_option()?.unwrap_or_default(),
            members: members.into_value()?,
        })
    })
}

fn members(
    ring: &HashringModel,
    path: &Path,
    replication: i64,
    r: &mut Report,
) -> Checked<Members> {
    let endpoints_selector = blocks::label_selector(
        &ring.endpoints_selector,
        &path.attr("endpoints_selector"),
        r,
    );
    let namespace_selector = blocks::label_selector(
        &ring.endpoints_namespace_selector,
        &path.attr("endpoints_namespace_selector"),
        r,
    );
    // Static endpoints included: the namespace selector would be ignored without a word.
    if ring.endpoints_namespace_selector.known().is_some() && ring.endpoints_selector.is_null() {
        r.push(
            &path.attr("endpoints_namespace_selector"),
            "Namespace selector without endpoints selector",
            "endpoints_namespace_selector only chooses where endpoints_selector looks; set endpoints_selector too",
        );
    }
    match (&ring.endpoints, &ring.endpoints_selector) {
        (Input::Known(_), Input::Known(_)) => {
            r.push(
                &path.attr("endpoints_selector"),
                "Conflicting hashring members",
                "set either endpoints (static) or endpoints_selector (discovered), not both",
            );
            Checked::Missing
        }
        (Input::Known(eps), _) => {
            let before = r.0.len();
            let mut unique = std::collections::BTreeSet::new();
            for (i, e) in eps.iter().enumerate() {
                let ep = path.attr("endpoints").index(i);
                if let Err(err) = validate::host_port(e) {
                    r.push(&ep, "Invalid endpoint", err);
                }
                if !unique.insert(e) {
                    r.push(&ep, "Duplicate endpoint", format!("{e:?} is listed twice"));
                }
            }
            let n = unique.len() as i64;
            if n == 0 {
                r.push(
                    &path.attr("endpoints"),
                    "Empty hashring",
                    "a hashring needs at least one endpoint to accept writes",
                );
            } else if n < replication {
                r.push(
                    &path.attr("endpoints"),
                    "Hashring smaller than the replication factor",
                    format!(
                        "{n} endpoint(s) cannot hold {replication} replicas of each series (replication_factor = {replication})"
                    ),
                );
            }
            if r.0.len() == before {
                Checked::Known(Members::Static(eps.clone()))
            } else {
                Checked::Missing
            }
        }
        (Input::Null, Input::Known(_)) => Checked::all(|| {
            Some(Members::Selected(RingSelector {
                endpoints_selector: endpoints_selector.into_value()?,
                namespace_selector: namespace_selector.into_option()?,
            }))
        }),
        (Input::Null, Input::Null) => {
            r.push(
                &path.attr("endpoints"),
                "Hashring without members",
                "set endpoints (static members, e.g. another thanos_receive's ingestor_endpoints) or endpoints_selector (members discovered from the cluster)",
            );
            Checked::Missing
        }
        _ => Checked::Missing,
    }
}
