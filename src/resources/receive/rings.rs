//! Receive's hashrings: the router block's rules, the rings a plan shows (static members, and
//! selected ones once discovered), which rings the cluster is asked about, what a state
//! records as applied, and the apply-time guard that never writes a ring the plan did not show.

use std::collections::BTreeMap;

use tfplugin::framework::{Diagnostic, Input};
use thanos_render::hashring::{ShardOverride, ShuffleSharding, TenantMatcher};
use thanos_render::placement::{self, Algorithm};
use thanos_render::receive::{
    self as render, Discovered, Hashring, Members, Mode, Reload, RingSelector, Router,
};
use thanos_render::validate::{self, Invalid, Path, Report};

use super::{
    HashringModel, ReceiveModel, RingEntry, RouterModel, ShardOverrideModel, ShuffleShardingModel,
};
use crate::resources::blocks;
use crate::resources::checks::{self, Checked};

/// What the router's rules need to know of the rest of the receive.
#[derive(Debug, Clone, Default)]
pub struct RouterContext {
    /// The receive's mode, once known: only a router + ingestor applies `external_labels`.
    pub mode: Option<Mode>,
    /// The label carrying the tenant (`tenant_label_name`), which external labels must not
    /// replace.
    pub tenant_label: Option<String>,
}

impl RouterContext {
    pub fn of(m: &ReceiveModel) -> Self {
        RouterContext {
            mode: super::mode(m),
            tenant_label: m.tenant_label_name.known().cloned(),
        }
    }
}

/// The validated router of `m`, if its block is set, known and valid (problems are not
/// reported here: validation reports them).
pub fn router(m: &ReceiveModel) -> Option<Router> {
    validate_router(
        m.router.known()?,
        &RouterContext::of(m),
        &mut Report::default(),
    )
    .into_value()
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
                endpoints: e.addresses(),
                name: e.name,
                tenants: e.tenants,
            })
            .collect(),
    )
}

/// `discovered` with the rings that select this receive's own ingestors completed by them
/// (`thanos_render::receive::with_own_members`): what the plan shows and the apply writes.
pub fn completed(m: &ReceiveModel, discovered: &Discovered) -> Discovered {
    match super::validate(m, &mut Report::default()) {
        Some(spec) => render::with_own_members(&spec, discovered),
        None => discovered.clone(),
    }
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
pub fn validate_router(
    router: &RouterModel,
    context: &RouterContext,
    r: &mut Report,
) -> Checked<Router> {
    let p = Path::root().attr("router");
    let refresh = checks::duration(
        r,
        &p.attr("hashrings_refresh_interval"),
        &router.hashrings_refresh_interval,
    );
    let reload = checks::one_of(
        r,
        &p.attr("hashrings_reload"),
        &router.hashrings_reload,
        Reload::VALUES,
    );
    if router.hashrings_reload.known().map(String::as_str) == Some(Reload::InPlace.as_str())
        && context.mode == Some(Mode::RouterIngestor)
    {
        r.push(
            &p.attr("hashrings_reload"),
            "Invalid hashrings_reload",
            "a receive with both router and ingestor restarts its pods to load a ring change (its own ring's changes are ordered that way): leave hashrings_reload unset or set \"restart\"",
        );
    }
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
        globs: Vec::new(),
        replication,
        context,
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
    let router = Checked::all(|| {
        Some(Router {
            hashrings_refresh_interval: refresh.into_option()?,
            // Unset only where nothing settled it: a state from before the attribute.
            reload: reload
                .into_option()?
                .and_then(|s| Reload::parse(&s))
                .unwrap_or_default(),
            replication_factor: rf.into_value()?,
            remote_write_ingress: ingress.into_option()?,
            hard_tenant_hashrings: hard.into_value()?,
            soft_tenant_hashring: soft.into_option()?,
        })
    });
    if let Checked::Known(router) = &router {
        let findings = static_ring_findings(router);
        if !findings.is_empty() {
            r.0.extend(findings);
            return Checked::Missing;
        }
    }
    router
}

/// What a router would do with the static rings (those whose members are listed): a file it
/// refuses to load, shards that fail their tenants' writes. Selector rings are checked when
/// their members are discovered (rendering refuses them then).
fn static_ring_findings(router: &Router) -> Vec<Invalid> {
    let entries: Vec<_> = router
        .rings()
        .into_iter()
        .map(|(_, ring)| match &ring.members {
            Members::Static(eps) => ring.entry(eps),
            Members::Selected(_) => ring.entry(&[]),
        })
        .collect();
    render::ring_findings(router, &entries)
}

/// What the rings of one router must not repeat, and what earlier rings take first.
struct Seen<'a> {
    names: &'a mut BTreeMap<String, Path>,
    tenants: &'a mut BTreeMap<String, Path>,
    /// Glob patterns of earlier rings: (pattern, its path, its ring's name).
    globs: Vec<(String, Path, String)>,
    replication: i64,
    context: &'a RouterContext,
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
    let matcher = checks::parsed(r, &path.attr("tenant_matcher"), &ring.tenant_matcher, |s| {
        TenantMatcher::parse(s).ok_or_else(|| {
            (
                "Invalid tenant_matcher",
                format!("{s:?} is not one of {:?}", TenantMatcher::VALUES),
            )
        })
    })
    .or(|| TenantMatcher::Exact);
    let algorithm = checks::parsed(r, &path.attr("algorithm"), &ring.algorithm, |s| {
        Algorithm::parse(s).ok_or_else(|| {
            (
                "Invalid algorithm",
                format!("{s:?} is not one of {:?}", Algorithm::VALUES),
            )
        })
    });
    let ring_name = ring.name.known().cloned().unwrap_or_default();
    if let (Checked::Known(m), Some(ts)) = (&matcher, ring.tenants.known()) {
        tenant_patterns(ts, *m, &ring_name, path, seen, r);
    }
    let tenants = checks::known_list(&ring.tenants);
    let members = members(ring, path, seen.replication, r);
    let zones = endpoint_zones(ring, path, &algorithm, r);
    let labels = external_labels(ring, path, soft, &matcher, seen.context, r);
    let shuffle = checks::block(&ring.shuffle_sharding, |s| {
        shuffle_sharding(s, &path.attr("shuffle_sharding"), &algorithm, r)
    });
    Checked::all(|| {
        Some(Hashring {
            name: name.into_value()?,
            tenants: tenants.into_option()?.unwrap_or_default(),
            tenant_matcher: matcher.into_value()?,
            members: members.into_value()?,
            // Unset only where nothing settled it: a state written before the attribute
            // existed, whose rings were all hashmod.
            algorithm: algorithm.into_option()?.unwrap_or(Algorithm::Hashmod),
            endpoint_zones: zones.into_value()?,
            external_labels: labels.into_value()?,
            shuffle_sharding: shuffle.into_option()?,
        })
    })
}

/// A ring's tenants as patterns: well-formed globs, and no tenant (or literal pattern) that
/// an earlier ring's glob takes first.
fn tenant_patterns(
    tenants: &[String],
    matcher: TenantMatcher,
    ring_name: &str,
    path: &Path,
    seen: &mut Seen<'_>,
    r: &mut Report,
) {
    for (i, t) in tenants.iter().enumerate() {
        let tp = path.attr("tenants").index(i);
        let glob = matcher == TenantMatcher::Glob;
        if glob && placement::check_glob(t).is_err() {
            r.push(
                &tp,
                "Invalid tenant glob",
                format!(
                    "{t:?} is not a valid pattern (`*`, `?`, `[a-z]` or `[^a-z]` with a closing `]`, `\\` before a literal); Thanos would fail the writes of every tenant it is checked against"
                ),
            );
            continue;
        }
        // A tenant this ring would get, unless an earlier glob takes it first.
        if (!glob || placement::is_literal(t))
            && let Some((pattern, at, earlier)) = seen
                .globs
                .iter()
                .find(|(p, _, _)| placement::glob_matches(p, t).unwrap_or(false))
        {
            r.push(
                &tp,
                "Tenant shadowed by a glob",
                format!(
                    "tenant {t:?} is matched by glob {pattern:?} of hashring {earlier:?} ({}), which comes first: hashring {ring_name:?} would never receive it. List it before that ring, or narrow the glob.",
                    validate::display_path(&at.0)
                ),
            );
        }
    }
    if matcher == TenantMatcher::Glob {
        for (i, t) in tenants.iter().enumerate() {
            seen.globs.push((
                t.clone(),
                path.attr("tenants").index(i),
                ring_name.to_owned(),
            ));
        }
    }
}

/// `endpoint_zones`: availability zones of a ketama ring's members, by endpoint.
fn endpoint_zones(
    ring: &HashringModel,
    path: &Path,
    algorithm: &Checked<Algorithm>,
    r: &mut Report,
) -> Checked<BTreeMap<String, String>> {
    let p = path.attr("endpoint_zones");
    let listed: Option<&Vec<String>> = ring.endpoints.known();
    let zones = checks::map(r, &p, &ring.endpoint_zones, |endpoint, az| {
        let mut problems = Vec::new();
        if az.is_empty() {
            problems.push((
                "Invalid availability zone",
                format!(
                    "the zone of {endpoint:?} is empty; leave the endpoint out to give it no zone"
                ),
            ));
        }
        if let Some(listed) = listed
            && !listed.iter().any(|e| e == endpoint)
        {
            problems.push((
                "Zone of an endpoint not in the ring",
                format!("{endpoint:?} is not one of this ring's endpoints"),
            ));
        }
        problems
    });
    let has_zones = ring.endpoint_zones.known().is_some_and(|z| !z.is_empty());
    if has_zones && *algorithm == Checked::Known(Algorithm::Hashmod) {
        r.push(
            &p,
            "Zones on a hashmod ring",
            "Thanos places series by availability zone only on a ketama ring, and a router refuses a hashmod ring with zones: set algorithm = \"ketama\" or remove endpoint_zones",
        );
        return Checked::Missing;
    }
    zones
}

/// `external_labels`: valid labels, on a ring whose ingestors apply them.
fn external_labels(
    ring: &HashringModel,
    path: &Path,
    soft: bool,
    matcher: &Checked<TenantMatcher>,
    context: &RouterContext,
    r: &mut Report,
) -> Checked<BTreeMap<String, String>> {
    let p = path.attr("external_labels");
    let tenant_label = context
        .tenant_label
        .as_deref()
        .unwrap_or(DEFAULT_TENANT_LABEL);
    let labels = checks::map(r, &p, &ring.external_labels, |k, v| {
        let mut problems = Vec::new();
        if let Err(e) = validate::prometheus_label_name(k) {
            problems.push(("Invalid external label name", e));
        }
        if v.is_empty() {
            problems.push((
                "Invalid external label value",
                format!("the value of {k:?} is empty"),
            ));
        }
        if k == REPLICA_LABEL || k == tenant_label {
            problems.push((
                "Reserved external label",
                format!(
                    "{k:?} is set by the ingestors ({REPLICA_LABEL} tells replicas apart for deduplication, {tenant_label} names the tenant); an external label would replace it"
                ),
            ));
        }
        problems
    });
    let set = ring.external_labels.known().is_some_and(|l| !l.is_empty());
    if !set {
        return labels;
    }
    let why = if context.mode == Some(Mode::RouterOnly) {
        Some(
            "only ingestors that read this hashrings file apply external labels, and the ingestors this router writes to do not (a receive needs both router and ingestor blocks for that)",
        )
    } else if soft {
        Some(
            "Thanos applies a ring's external labels to the tenants it lists, and the soft ring lists none",
        )
    } else if *matcher == Checked::Known(TenantMatcher::Glob) {
        Some(
            "Thanos applies a ring's external labels to tenants listed exactly, never to tenants matched by a glob",
        )
    } else {
        None
    };
    if let Some(why) = why {
        r.push(
            &p,
            "External labels that would never be applied",
            format!("{why}; remove them, or set them where they apply"),
        );
        return Checked::Missing;
    }
    labels
}

/// The label that tells replicas apart (every receive pod sets it).
const REPLICA_LABEL: &str = "receive_replica";
/// Thanos's default `--receive.tenant-label-name`.
const DEFAULT_TENANT_LABEL: &str = "tenant_id";

/// `shuffle_sharding`: a ketama ring, sizes, overrides.
fn shuffle_sharding(
    s: &ShuffleShardingModel,
    p: &Path,
    algorithm: &Checked<Algorithm>,
    r: &mut Report,
) -> Checked<ShuffleSharding> {
    if *algorithm == Checked::Known(Algorithm::Hashmod) {
        r.push(
            p,
            "Shuffle sharding on a hashmod ring",
            "Thanos shards tenants only on a ketama ring, and a router refuses a hashmod ring with shuffle sharding: set algorithm = \"ketama\"",
        );
        return Checked::Missing;
    }
    let positive = |what: &'static str| {
        move |n: i64| {
            if n >= 1 {
                Ok(())
            } else {
                Err((what, format!("{n} must be at least 1")))
            }
        }
    };
    let size = checks::int(
        r,
        &p.attr("shard_size"),
        &s.shard_size,
        positive("Invalid shard_size"),
    )
    .required(r, &p.attr("shard_size"));
    let cache = checks::int(
        r,
        &p.attr("cache_size"),
        &s.cache_size,
        positive("Invalid cache_size"),
    );
    let overrides = checks::list(r, &p.attr("overrides"), &s.overrides, |o, op, r| {
        shard_override(o, op, r)
    });
    let unaware = checks::plain(&s.zone_awareness_disabled).or(|| false);
    Checked::all(|| {
        Some(ShuffleSharding {
            shard_size: size.into_value()? as usize,
            cache_size: cache.into_option()?.unwrap_or(0) as usize,
            overrides: overrides.into_value()?,
            zone_awareness_disabled: unaware.into_value()?,
        })
    })
}

fn shard_override(o: &ShardOverrideModel, p: &Path, r: &mut Report) -> Checked<ShardOverride> {
    let size = checks::int(r, &p.attr("shard_size"), &o.shard_size, |n| {
        if n >= 1 {
            Ok(())
        } else {
            Err(("Invalid shard_size", format!("{n} must be at least 1")))
        }
    })
    .required(r, &p.attr("shard_size"));
    let matcher = checks::parsed(r, &p.attr("tenant_matcher"), &o.tenant_matcher, |s| {
        TenantMatcher::parse(s).ok_or_else(|| {
            (
                "Invalid tenant_matcher",
                format!("{s:?} is not one of {:?}", TenantMatcher::VALUES),
            )
        })
    })
    .or(|| TenantMatcher::Exact);
    let glob = matcher == Checked::Known(TenantMatcher::Glob);
    let tenants = checks::unique_strings(r, &p.attr("tenants"), &o.tenants, "tenant", |t| {
        if t.is_empty() {
            Err(("Invalid tenant", "a tenant must not be empty".to_owned()))
        } else if glob && placement::check_glob(t).is_err() {
            Err((
                "Invalid tenant glob",
                format!("{t:?} is not a valid pattern; Thanos would never apply this override"),
            ))
        } else {
            Ok(())
        }
    })
    .required(r, &p.attr("tenants"));
    if o.tenants.known().is_some_and(Vec::is_empty) {
        r.push(
            &p.attr("tenants"),
            "Override without tenants",
            "an override applies to the tenants it lists: list at least one",
        );
    }
    Checked::all(|| {
        Some(ShardOverride {
            shard_size: size.into_value()? as usize,
            tenants: tenants.into_value()?,
            tenant_matcher: Some(matcher.into_value()?),
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
