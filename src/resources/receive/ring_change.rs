//! The plan's word on each hashring that changes: who joins, who leaves, and what share of the
//! ring's series will be written to a different set of ingestors, for the ring's algorithm and
//! replication factor before and after (`thanos_render::placement::ring_change`, which
//! reproduces Thanos's own placement).
//!
//! The ring before is the one applied: the prior state's router with the members its
//! `hashrings` recorded. The ring after is the planned router with the members the plan shows
//! (static, or discovered). A ring whose members are not known on either side (discovered at
//! apply time) and a new or removed ring say nothing: there is no placement to compare.

use thanos_render::hashring::HashringEntry;
use thanos_render::placement::{RingChange, RingSide, ring_change};
use thanos_render::receive::{self as render, Discovered, Members, Router};
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
    let mut out = Vec::new();
    for (path, name, entry) in &after_entries {
        let Some(new) = entry else { continue };
        let Some(old) = before_entries
            .iter()
            .find(|(_, n, _)| n == name)
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
        out.push(warning(path, name, &change, old_side, new_side));
    }
    out
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
    name: &str,
    change: &RingChange,
    before: RingSide<'_>,
    after: RingSide<'_>,
) -> Invalid {
    let summary = format!(
        "Hashring {name:?}: {} joining, {} leaving",
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
