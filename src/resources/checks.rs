//! The small steps every validation is made of: check one decoded value (known, unset or not
//! known yet), report what is wrong at its attribute path, and hand on the checked value.
//!
//! A resource's validation checks every field (so every problem is reported at once, even
//! while other values are unknown) and assembles its spec from the [`Checked`] results: the
//! spec exists only when every part is known and valid.

use std::collections::BTreeMap;

use tfplugin::framework::{Input, Validator};
use thanos_render::args::{self, Denied};
use thanos_render::validate::{self, Path, Report};

/// One checked value.
#[derive(Debug, Clone, PartialEq)]
pub enum Checked<T> {
    /// Known and valid.
    Known(T),
    /// Unset in the configuration (valid: the caller decides the default).
    Unset,
    /// Not known yet, or invalid (then reported).
    Missing,
}

impl<T> Checked<T> {
    /// A part assembled from checked fields: `Missing` when any field is.
    pub fn all(f: impl FnOnce() -> Option<T>) -> Checked<T> {
        f().map_or(Checked::Missing, Checked::Known)
    }

    /// The value of a part that always has one (collections, defaulted fields).
    pub fn into_value(self) -> Option<T> {
        match self {
            Checked::Known(v) => Some(v),
            Checked::Unset | Checked::Missing => None,
        }
    }

    /// The value of an optional part: `Some(None)` when unset.
    pub fn into_option(self) -> Option<Option<T>> {
        match self {
            Checked::Known(v) => Some(Some(v)),
            Checked::Unset => Some(None),
            Checked::Missing => None,
        }
    }

    /// An unset value is an error at `path`.
    pub fn required(self, r: &mut Report, path: &Path) -> Checked<T> {
        if let Checked::Unset = self {
            r.push(
                path,
                "Missing required value",
                format!("{} must be set", validate::display_path(&path.0)),
            );
            return Checked::Missing;
        }
        self
    }

    /// An unset value takes `default`.
    pub fn or(self, default: impl FnOnce() -> T) -> Checked<T> {
        match self {
            Checked::Unset => Checked::Known(default()),
            other => other,
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Checked<U> {
        match self {
            Checked::Known(v) => Checked::Known(f(v)),
            Checked::Unset => Checked::Unset,
            Checked::Missing => Checked::Missing,
        }
    }
}

/// A problem with a value: a summary and a sentence saying what to do.
pub type Problem = (&'static str, String);

/// A value taken as it is (no rule of its own).
pub fn plain<T: Clone>(v: &Input<T>) -> Checked<T> {
    match v {
        Input::Known(v) => Checked::Known(v.clone()),
        Input::Null => Checked::Unset,
        Input::Unknown => Checked::Missing,
    }
}

/// A list of strings taken as it is; unset stays unset (the caller knows the default).
pub fn known_list(v: &Input<Vec<String>>) -> Checked<Vec<String>> {
    plain(v)
}

/// A string with one rule.
pub fn string(
    r: &mut Report,
    path: &Path,
    v: &Input<String>,
    check: impl FnOnce(&str) -> Result<(), Problem>,
) -> Checked<String> {
    parsed(r, path, v, |s| check(s).map(|()| s.to_owned()))
}

/// A string turned into a value by `parse`, whose error is reported at `path`.
pub fn parsed<T>(
    r: &mut Report,
    path: &Path,
    v: &Input<String>,
    parse: impl FnOnce(&str) -> Result<T, Problem>,
) -> Checked<T> {
    match v {
        Input::Known(s) => match parse(s) {
            Ok(t) => Checked::Known(t),
            Err((summary, detail)) => {
                r.push(path, summary, detail);
                Checked::Missing
            }
        },
        Input::Null => Checked::Unset,
        Input::Unknown => Checked::Missing,
    }
}

/// A whole number with one rule.
pub fn int(
    r: &mut Report,
    path: &Path,
    v: &Input<i64>,
    check: impl FnOnce(i64) -> Result<(), Problem>,
) -> Checked<i64> {
    match v {
        Input::Known(n) => match check(*n) {
            Ok(()) => Checked::Known(*n),
            Err((summary, detail)) => {
                r.push(path, summary, detail);
                Checked::Missing
            }
        },
        Input::Null => Checked::Unset,
        Input::Unknown => Checked::Missing,
    }
}

/// A string that must be one of `allowed`.
/// A container image reference: not empty, no whitespace. The registry decides the rest.
pub fn image(r: &mut Report, path: &Path, v: &Input<String>) -> Checked<String> {
    string(r, path, v, |i| {
        if i.is_empty() || i.chars().any(char::is_whitespace) {
            Err((
                "Invalid image",
                format!("{i:?} must be a non-empty image reference without spaces"),
            ))
        } else {
            Ok(())
        }
    })
}

pub fn one_of(r: &mut Report, path: &Path, v: &Input<String>, allowed: &[&str]) -> Checked<String> {
    string(r, path, v, |s| {
        validate::one_of(s, allowed).map_err(|e| ("Invalid value", e))
    })
}

/// A Prometheus duration (`30d`, `1h30m`).
pub fn duration(r: &mut Report, path: &Path, v: &Input<String>) -> Checked<String> {
    string(r, path, v, |d| {
        validate::prometheus_duration(d).map_err(|e| ("Invalid duration", e))
    })
}

/// A block: its own checks when set.
pub fn block<M, T>(m: &Input<M>, check: impl FnOnce(&M) -> Checked<T>) -> Checked<T> {
    match m {
        Input::Known(m) => check(m),
        Input::Null => Checked::Unset,
        Input::Unknown => Checked::Missing,
    }
}

/// A list block (or list of nested objects): every element checked at its index; unset is
/// empty.
pub fn list<M, T>(
    r: &mut Report,
    path: &Path,
    v: &Input<Vec<M>>,
    mut check: impl FnMut(&M, &Path, &mut Report) -> Checked<T>,
) -> Checked<Vec<T>> {
    match v {
        Input::Known(items) => {
            let checked: Vec<Checked<T>> = items
                .iter()
                .enumerate()
                .map(|(i, m)| check(m, &path.index(i), r))
                .collect();
            Checked::all(|| checked.into_iter().map(Checked::into_value).collect())
        }
        Input::Null => Checked::Known(Vec::new()),
        Input::Unknown => Checked::Missing,
    }
}

/// A map of strings whose every entry has rules (problems reported at the entry's key);
/// unset is empty.
pub fn map(
    r: &mut Report,
    path: &Path,
    v: &Input<BTreeMap<String, String>>,
    mut check: impl FnMut(&str, &str) -> Vec<Problem>,
) -> Checked<BTreeMap<String, String>> {
    match v {
        Input::Known(m) => {
            let mut ok = true;
            for (k, value) in m {
                for (summary, detail) in check(k, value) {
                    r.push(&path.key(k), summary, detail);
                    ok = false;
                }
            }
            if ok {
                Checked::Known(m.clone())
            } else {
                Checked::Missing
            }
        }
        Input::Null => Checked::Known(BTreeMap::new()),
        Input::Unknown => Checked::Missing,
    }
}

/// Kubernetes labels (keys qualified names, values label values); `reject_reserved` refuses
/// the labels the provider sets itself.
pub fn labels(
    r: &mut Report,
    path: &Path,
    v: &Input<BTreeMap<String, String>>,
    reject_reserved: bool,
) -> Checked<BTreeMap<String, String>> {
    map(r, path, v, |k, value| {
        let mut problems = Vec::new();
        if let Err(e) = validate::qualified_name(k) {
            problems.push(("Invalid label key", e));
        }
        if let Err(e) = validate::label_value(value) {
            problems.push(("Invalid label value", e));
        }
        if reject_reserved && thanos_render::meta::RESERVED_LABELS.contains(&k) {
            problems.push((
                "Reserved label",
                format!(
                    "{k:?} is set by the provider: it identifies the objects this resource owns (or selects its pods) and cannot be overridden"
                ),
            ));
        }
        problems
    })
}

/// Kubernetes annotations (keys qualified names).
pub fn annotations(
    r: &mut Report,
    path: &Path,
    v: &Input<BTreeMap<String, String>>,
) -> Checked<BTreeMap<String, String>> {
    map(r, path, v, |k, _| match validate::qualified_name(k) {
        Ok(()) => Vec::new(),
        Err(e) => vec![("Invalid annotation key", e)],
    })
}

/// `extra_args`: flags only, none the provider must manage; unset is empty.
pub fn extra_args(
    r: &mut Report,
    path: &Path,
    v: &Input<Vec<String>>,
    deny: &[&[Denied]],
) -> Checked<Vec<String>> {
    match v {
        Input::Known(extra) => {
            let before = r.0.len();
            args::validate_extra_args(r, path, extra, deny);
            if r.0.len() == before {
                Checked::Known(extra.clone())
            } else {
                Checked::Missing
            }
        }
        Input::Null => Checked::Known(Vec::new()),
        Input::Unknown => Checked::Missing,
    }
}

/// Strings that must be unique and each pass `check` (problems at the element's index).
pub fn unique_strings(
    r: &mut Report,
    path: &Path,
    v: &Input<Vec<String>>,
    what: &str,
    mut check: impl FnMut(&str) -> Result<(), Problem>,
) -> Checked<Vec<String>> {
    match v {
        Input::Known(items) => {
            let before = r.0.len();
            let mut seen = std::collections::BTreeSet::new();
            for (i, s) in items.iter().enumerate() {
                let p = path.index(i);
                if let Err((summary, detail)) = check(s) {
                    r.push(&p, summary, detail);
                }
                if !seen.insert(s) {
                    r.push(
                        &p,
                        format!("Duplicate {what}"),
                        format!("{s:?} is listed twice"),
                    );
                }
            }
            if r.0.len() == before {
                Checked::Known(items.clone())
            } else {
                Checked::Missing
            }
        }
        Input::Null => Checked::Unset,
        Input::Unknown => Checked::Missing,
    }
}

/// A replica count (`0` scales the workload to zero).
pub fn replicas(r: &mut Report, p: &Path, v: &Input<i64>) -> Checked<i32> {
    int(r, p, v, |n| {
        if (0..=i64::from(i32::MAX)).contains(&n) {
            Ok(())
        } else {
            Err((
                "Invalid replicas",
                format!(
                    "{n} must be between 0 and {} (0 scales the workload to zero)",
                    i32::MAX
                ),
            ))
        }
    })
    .or(|| thanos_render::common::DEFAULT_REPLICAS)
    .map(|n| i32::try_from(n).unwrap_or_default())
}

/// A Kubernetes object name usable as a DNS label (RFC 1123): what every derived object name
/// is built from. A schema validator, so `terraform validate` reports it too.
pub fn dns_label_validator() -> Validator {
    Validator::new(DNS_LABEL_RULE, |v| dns_label_problem(v.as_str()?))
}

/// The resource's `name`: a DNS label, with advice when Pulumi's auto-naming made it.
pub fn name_validator() -> Validator {
    Validator::new(DNS_LABEL_RULE, |v| {
        let name = v.as_str()?;
        dns_label_problem(name).map(|problem| match pulumi_naming_hint(name) {
            Some(hint) => format!("{problem} {hint}"),
            None => problem,
        })
    })
}

const DNS_LABEL_RULE: &str = "must be a lowercase RFC 1123 label: letters, digits and `-`, starting with a letter and ending with a letter or digit";

fn dns_label_problem(s: &str) -> Option<String> {
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
}

/// Advice for a name that looks made by Pulumi's auto-naming (`<logical name>-<7 hex digits>`,
/// applied when a program leaves `name` out): the problem is then the logical name.
pub fn pulumi_naming_hint(name: &str) -> Option<String> {
    let (logical, suffix) = name.rsplit_once('-')?;
    let hex = suffix.len() == 7
        && suffix
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
    (hex && !logical.is_empty()).then(|| {
        format!(
            "If Pulumi made this name from the resource's logical name {logical:?} \
             (auto-naming adds a dash and 7 hex digits), set `name` in the program, or give \
             the resource a short, lowercase logical name."
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfvalue::Value;

    #[test]
    fn dns_labels() {
        let v = dns_label_validator();
        assert!((v.check)(&Value::from("ingestor-1")).is_none());
        for bad in ["Ingestor", "1abc", "a_b", "abc-", ""] {
            assert!((v.check)(&Value::from(bad)).is_some(), "{bad}");
        }
    }

    #[test]
    fn a_resource_name_auto_named_by_pulumi_says_how_to_fix_it() {
        let name = name_validator();
        let problem = (name.check)(&Value::from("sampleQuery-55b2206")).unwrap();
        assert!(
            problem.contains("logical name \"sampleQuery\""),
            "{problem}"
        );
        assert!(problem.contains("set `name`"), "{problem}");
        // A name a user wrote, or a valid auto-name, gets no hint.
        let problem = (name.check)(&Value::from("Bad_Name")).unwrap();
        assert!(!problem.contains("Pulumi"), "{problem}");
        assert!((name.check)(&Value::from("sample-55b2206")).is_none());
        // Only the name is auto-named; other labels never get the hint.
        let label = (dns_label_validator().check)(&Value::from("sampleQuery-55b2206")).unwrap();
        assert!(!label.contains("Pulumi"), "{label}");
    }

    #[test]
    fn checked_values_keep_unset_apart_from_missing() {
        let mut r = Report::default();
        let p = Path::root().attr("x");
        assert_eq!(plain(&Input::<i64>::Null), Checked::Unset);
        assert_eq!(plain(&Input::<i64>::Unknown), Checked::Missing);
        assert_eq!(plain(&Input::<i64>::Null).or(|| 3).into_value(), Some(3));
        assert_eq!(
            plain(&Input::<i64>::Null).required(&mut r, &p),
            Checked::Missing
        );
        assert_eq!(r.0.len(), 1);
        assert_eq!(plain(&Input::<i64>::Null).into_option(), Some(None));
        assert_eq!(plain(&Input::<i64>::Unknown).into_option(), None);
    }
}
