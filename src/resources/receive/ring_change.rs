//! The plan's word on each hashring that changes: who joins, who leaves, and what share of the
//! ring's series will be written to a different set of ingestors, for the ring's algorithm and
//! replication factor before and after (`thanos_render::placement::ring_change`, which
//! reproduces Thanos's own placement).
//!
//! The ring before is the one applied: the prior state's router with the members its
//! `hashrings` recorded. The ring after is the planned router with the members the plan shows
//! (static, or discovered). Rings are paired by name, else a new name with an old ring of the
//! same tenants (a rename). A ring whose members are not known on either side (discovered at
//! apply time) says nothing: there is no placement to compare. Tenants that a different ring
//! serves afterwards (a hard ring added or removed, a tenant moved between lists) get one
//! more warning on the router, from `thanos_render::placement::tenant_moves`.

use std::collections::BTreeMap;
use thanos_render::hashring::HashringEntry;

use thanos_render::placement::{
    FileSide, RingChange, RingSide, TenantMove, ring_change, tenant_moves,
};
use thanos_render::receive::{self as render, Discovered, Hashring, Members, Router};
use thanos_render::validate::{Invalid, Path};

use super::{ReceiveModel, rings};

/// One warning per ring whose placement changes between `prior` (the state) and `planned`.
pub fn warnings(
    planned: &ReceiveModel,
    prior: Option<&ReceiveModel>,
    discovered: &Discovered,
) -> Vec<Invalid> {
    let Some(prior) = prior else {
        return Vec::new();
    };
    let (Some(after), Some(before)) = (rings::router(planned), rings::router(prior)) else {
        return Vec::new();
    };
    let Some(applied) = rings::applied(prior) else {
        return Vec::new();
    };
    let before_entries = entries(&before, &applied);
    let after_entries = entries(&after, discovered);
    let side = |router: &Router, entry| RingSide {
        entry,
        default_algorithm: render::default_algorithm(router),
        replication_factor: router.replication_factor.max(0) as u64,
    };
    let renamed = renames(&before, &after);
    let mut out = Vec::new();
    for (path, name, entry) in &after_entries {
        let Some(new) = entry else { continue };
        let was = renamed.get(name).unwrap_or(name);
        let Some(old) = before_entries
            .iter()
            .find(|(_, n, _)| n == was)
            .and_then(|(_, _, e)| e.as_ref())
        else {
            continue;
        };
        let (old_side, new_side) = (side(&before, old), side(&after, new));
        // The same file entry placed the same way: nothing to measure (every plan asks).
        if old == new
            && old_side.algorithm() == new_side.algorithm()
            && old_side.replication_factor == new_side.replication_factor
        {
            continue;
        }
        let change = ring_change(old_side, new_side);
        if change.joined.is_empty() && change.left.is_empty() && !change.moves_series() {
            continue;
        }
        let title = if was == name {
            format!("{name:?}")
        } else {
            format!("{name:?} (was {was:?})")
        };
        out.push(warning(path, &title, &change, old_side, new_side));
    }
    out.extend(moves_warning(
        &before,
        &before_entries,
        &after,
        &after_entries,
        &renamed,
    ));
    out
}

/// New ring names paired with the old ring they rename: an old ring whose name is gone and a
/// new ring whose name is new that serve the same tenants the same way (each paired once).
fn renames(before: &Router, after: &Router) -> BTreeMap<String, String> {
    let old_rings: Vec<&Hashring> = before.rings().into_iter().map(|(_, h)| h).collect();
    let new_rings: Vec<&Hashring> = after.rings().into_iter().map(|(_, h)| h).collect();
    let is_old = |name: &str| old_rings.iter().any(|h| h.name == name);
    let is_new = |name: &str| new_rings.iter().any(|h| h.name == name);
    let mut out = BTreeMap::new();
    for new in new_rings.iter().filter(|h| !is_old(&h.name)) {
        let old = old_rings.iter().find(|old| {
            !is_new(&old.name)
                && !out.values().any(|taken: &String| *taken == old.name)
                && old.tenants == new.tenants
                && old.tenant_matcher == new.tenant_matcher
        });
        if let Some(old) = old {
            out.insert(new.name.clone(), old.name.clone());
        }
    }
    out
}

/// The router's warning about tenants that another ring serves after the change, when every
/// ring's members are known on both sides.
fn moves_warning(
    before: &Router,
    before_entries: &[(Path, String, Option<HashringEntry>)],
    after: &Router,
    after_entries: &[(Path, String, Option<HashringEntry>)],
    renamed: &BTreeMap<String, String>,
) -> Option<Invalid> {
    let known = |entries: &[(Path, String, Option<HashringEntry>)]| -> Option<Vec<HashringEntry>> {
        entries.iter().map(|(_, _, e)| e.clone()).collect()
    };
    let (old, new) = (known(before_entries)?, known(after_entries)?);
    let side = |router: &Router, entries| FileSide {
        entries,
        default_algorithm: render::default_algorithm(router),
        replication_factor: router.replication_factor.max(0) as u64,
    };
    let moves = tenant_moves(side(before, &old), side(after, &new), renamed);
    if moves.is_empty() {
        return None;
    }
    let shown: Vec<String> = moves.iter().take(MOVES_SHOWN).map(describe_move).collect();
    let mut detail = shown.join("\n");
    if moves.len() > MOVES_SHOWN {
        detail.push_str(&format!("\n... and {} more.", moves.len() - MOVES_SHOWN));
    }
    Some(Invalid {
        path: Path::root().attr("router").0,
        summary: match moves.len() {
            1 => "1 tenant changes hashring".to_owned(),
            n => format!("{n} tenants change hashring"),
        },
        detail,
    })
}

/// Tenants listed one by one in the warning; the rest are counted.
const MOVES_SHOWN: usize = 10;

fn describe_move(m: &TenantMove) -> String {
    let ring = |r: &Option<String>| match r {
        Some(name) => format!("{name:?}"),
        None => "no hashring".to_owned(),
    };
    let mut line = format!(
        "Tenant {:?}: {} -> {}",
        m.tenant,
        ring(&m.from),
        ring(&m.to)
    );
    match (&m.to, m.movement) {
        (None, _) => line.push_str(": no hashring serves it afterwards, so its writes fail."),
        (Some(_), Some(mv)) if mv.changed == 0 => {
            line.push_str(": the same ingestors, no series move.")
        }
        (Some(_), Some(mv)) => line.push_str(&format!(
            ": about {} of its series will be written to a different set of ingestors{}.",
            percent(mv.changed_share()),
            if mv.disjoint > 0 {
                format!(
                    " ({} only to ingestors that did not hold them)",
                    percent(mv.disjoint_share())
                )
            } else {
                String::new()
            }
        )),
        (Some(_), None) => {
            line.push_str(": the share of its series that moves cannot be estimated.")
        }
    }
    line
}

/// Each ring of `router` with its entry, when its members are known.
fn entries(router: &Router, discovered: &Discovered) -> Vec<(Path, String, Option<HashringEntry>)> {
    router
        .rings()
        .into_iter()
        .map(|(path, ring)| {
            let members = match &ring.members {
                Members::Static(e) => Some(e.clone()),
                Members::Selected(_) => discovered.get(&ring.name).cloned(),
            };
            let entry = members.map(|m| ring.entry(&m));
            (path, ring.name.clone(), entry)
        })
        .collect()
}

fn warning(
    path: &Path,
    title: &str,
    change: &RingChange,
    before: RingSide<'_>,
    after: RingSide<'_>,
) -> Invalid {
    let summary = format!(
        "Hashring {title}: {} joining, {} leaving",
        count(change.joined.len()),
        count(change.left.len())
    );
    let mut detail = String::new();
    for (what, list) in [("Joining", &change.joined), ("Leaving", &change.left)] {
        if !list.is_empty() {
            detail.push_str(&format!("{what}: {}.\n", list.join(", ")));
        }
    }
    let how = |s: RingSide<'_>| {
        format!(
            "{}, replication factor {}",
            s.algorithm().as_str(),
            s.replication_factor
        )
    };
    let placement = if how(before) == how(after) {
        how(after)
    } else {
        format!("{} before, {} after", how(before), how(after))
    };
    match change.movement {
        Some(m) => {
            detail.push_str(&format!(
                "About {} of this ring's series will be written to a different set of ingestors ({placement}; estimated on {} sample series of {} tenant(s)).",
                percent(m.changed_share()),
                m.series,
                change.tenants.len()
            ));
            if m.disjoint > 0 {
                detail.push_str(&format!(
                    " About {} will be written only to ingestors that did not hold them: their recent samples stay on the ingestors they leave until those upload a block (or, without object storage, until their retention ends), and a leaving ingestor takes what it has not uploaded with it.",
                    percent(m.disjoint_share())
                ));
            }
            detail.push_str(
                " A moved series starts a new head series on its new ingestors (memory, and a \
                 short gap in its per-ingestor history); queries still see both parts.",
            );
        }
        None => detail.push_str(&format!(
            "The share of series moved cannot be estimated: one side of the change cannot place series ({placement})."
        )),
    }
    Invalid {
        path: path.0.clone(),
        summary,
        detail,
    }
}

fn count(n: usize) -> String {
    match n {
        1 => "1 ingestor".to_owned(),
        n => format!("{n} ingestors"),
    }
}

/// A share as a percentage, never rounded to 0% or 100% when it is neither.
fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p > 0.0 && p < 1.0 {
        "<1%".to_owned()
    } else if p < 100.0 && p > 99.0 {
        ">99%".to_owned()
    } else {
        format!("{p:.0}%")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::resources::receive::Receive;
    use crate::testing::{Absent, model};

    fn pods(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("i-{i}.ns.svc:10901")).collect()
    }

    fn receive(algorithm: &str, rf: i64, endpoints: Vec<String>) -> ReceiveModel {
        let mut m = model::<Receive>(
            &json!({"name": "r", "router": {"replication_factor": rf, "soft_tenant_hashring": {
                "name": "default", "algorithm": algorithm, "endpoints": endpoints}}}),
            Absent::Null,
        );
        // The state records the rings as applied.
        m.hashrings = tfplugin::framework::Input::Known(
            rings::planned(&m, &Discovered::new()).expect("static rings"),
        );
        m
    }

    #[test]
    fn growth_says_who_joins_and_what_share_moves() {
        let before = receive("ketama", 2, pods(3));
        let after = receive("ketama", 2, pods(4));
        let w = warnings(&after, Some(&before), &Discovered::new());
        assert_eq!(w.len(), 1, "{w:#?}");
        assert_eq!(
            w[0].summary,
            "Hashring \"default\": 1 ingestor joining, 0 ingestors leaving"
        );
        assert_eq!(
            thanos_render::validate::display_path(&w[0].path),
            "router.soft_tenant_hashring"
        );
        assert!(
            w[0].detail.contains("Joining: i-3.ns.svc:10901."),
            "{}",
            w[0].detail
        );
        // ketama, rf 2, 3 → 4: about 2/4 of the series change their set of ingestors.
        assert!(
            w[0].detail.contains("ketama, replication factor 2"),
            "{}",
            w[0].detail
        );
        let share = share_of(&w[0].detail);
        assert!((45..=55).contains(&share), "{}", w[0].detail);
    }

    #[test]
    fn hashmod_shrink_moves_most_series() {
        let before = receive("hashmod", 1, pods(4));
        let after = receive("hashmod", 1, pods(3));
        let w = warnings(&after, Some(&before), &Discovered::new());
        assert_eq!(w.len(), 1);
        assert!(
            w[0].detail.contains("Leaving: i-3.ns.svc:10901."),
            "{}",
            w[0].detail
        );
        let share = share_of(&w[0].detail);
        assert!((70..=80).contains(&share), "{}", w[0].detail);
        assert!(
            w[0].detail
                .contains("only to ingestors that did not hold them")
        );
    }

    #[test]
    fn an_algorithm_switch_moves_series_without_members_changing() {
        let before = receive("hashmod", 1, pods(3));
        let after = receive("ketama", 1, pods(3));
        let w = warnings(&after, Some(&before), &Discovered::new());
        assert_eq!(w.len(), 1);
        assert!(
            w[0].summary
                .contains("0 ingestors joining, 0 ingestors leaving")
        );
        assert!(
            w[0].detail.contains(
                "hashmod, replication factor 1 before, ketama, replication factor 1 after"
            ),
            "{}",
            w[0].detail
        );
    }

    #[test]
    fn no_change_no_create_no_warning() {
        let r = receive("ketama", 1, pods(3));
        assert!(warnings(&r, Some(&r), &Discovered::new()).is_empty());
        assert!(warnings(&r, None, &Discovered::new()).is_empty());
    }

    fn with_rings(router: serde_json::Value) -> ReceiveModel {
        let mut m = model::<Receive>(&json!({"name": "r", "router": router}), Absent::Null);
        m.hashrings = tfplugin::framework::Input::Known(
            rings::planned(&m, &Discovered::new()).expect("static rings"),
        );
        m
    }

    #[test]
    fn a_renamed_ring_that_also_grows_is_measured_against_its_old_self() {
        let ring = |name: &str, n: usize| {
            json!({"replication_factor": 1, "soft_tenant_hashring": {
                "name": name, "algorithm": "ketama", "endpoints": pods(n)}})
        };
        let before = with_rings(ring("default", 3));
        let after = with_rings(ring("main", 4));
        let w = warnings(&after, Some(&before), &Discovered::new());
        assert_eq!(w.len(), 1, "{w:#?}");
        assert_eq!(
            w[0].summary,
            "Hashring \"main\" (was \"default\"): 1 ingestor joining, 0 ingestors leaving"
        );
        // A rename alone places every series where it was: nothing to say.
        let same = with_rings(ring("main", 3));
        assert!(warnings(&same, Some(&before), &Discovered::new()).is_empty());
    }

    #[test]
    fn a_new_hard_ring_says_which_tenant_moves_and_what_it_costs() {
        let soft = json!({"name": "default", "algorithm": "ketama", "endpoints": pods(3)});
        let before = with_rings(json!({"replication_factor": 1, "soft_tenant_hashring": soft}));
        let others: Vec<String> = (0..2).map(|i| format!("o-{i}.ns.svc:10901")).collect();
        let after = with_rings(json!({"replication_factor": 1,
            "hard_tenant_hashrings": [{"name": "team-a", "tenants": ["team-a"],
                "algorithm": "ketama", "endpoints": others}],
            "soft_tenant_hashring": soft}));
        let w = warnings(&after, Some(&before), &Discovered::new());
        assert_eq!(w.len(), 1, "{w:#?}");
        assert_eq!(w[0].summary, "1 tenant changes hashring");
        assert_eq!(thanos_render::validate::display_path(&w[0].path), "router");
        assert_eq!(
            w[0].detail,
            "Tenant \"team-a\": \"default\" -> \"team-a\": about 100% of its series will be \
             written to a different set of ingestors (100% only to ingestors that did not hold them)."
        );
        // And back: the hard ring removed sends the tenant to the soft ring.
        let w = warnings(&before, Some(&after), &Discovered::new());
        assert_eq!(w.len(), 1, "{w:#?}");
        assert!(
            w[0].detail
                .starts_with("Tenant \"team-a\": \"team-a\" -> \"default\"")
        );
    }

    fn share_of(detail: &str) -> u32 {
        let at = detail.find("About ").expect("a share") + "About ".len();
        detail[at..]
            .split('%')
            .next()
            .unwrap()
            .parse()
            .unwrap_or_else(|_| panic!("{detail}"))
    }
}
