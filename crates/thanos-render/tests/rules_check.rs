//! The rule-file table in `tests/rules/`: our verdict for each file against the expectation in
//! its header, and, when the pinned `thanos` binary is built, against
//! `thanos tools rules-check --rules=<file>` itself.
//!
//! Each file starts with comment lines (YAML comments, so Thanos ignores them):
//! - `# expect: ok`, or `# expect: error <path>`: the verdict of [`check_rule_file`], and for an
//!   error the path of (one of) its locations (`groups[0].rules[1].expr`; `-` for the file);
//! - `# thanos: ok` on a file we refuse on purpose though rules-check accepts it (a deliberate
//!   stricter check, see the `rules` module docs); without it, Thanos must agree with us;
//! - `# why: ...`: what the file is about.
//!
//! Two more tables hold single expressions (`expressions.txt`, as the `expr` of a recording
//! rule) and single Go templates (`templates.txt`, as an annotation of an alerting rule), one
//! `ok`/`error` verdict and JSON string a line; rules-check sees each table as one group, and
//! reports the rules it refuses by index.

use std::path::{Path, PathBuf};
use std::process::Command;

use thanos_render::common::DEFAULT_THANOS_IMAGE;
use thanos_render::rules::check_rule_file;
use thanos_render::validate::display_path;

struct Case {
    path: PathBuf,
    text: String,
    /// `None` for ok, `Some(path)` for an error at `path` (`""` for the file itself).
    error_at: Option<String>,
    /// Thanos accepts a file we refuse on purpose.
    stricter: bool,
}

fn cases() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rules");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let header = |key: &str| {
                text.lines()
                    .take_while(|l| l.starts_with('#'))
                    .find_map(|l| l.strip_prefix(&format!("# {key}: ")))
                    .map(str::trim)
                    .map(str::to_string)
            };
            let expect = header("expect")
                .unwrap_or_else(|| panic!("{}: no `# expect:` line", path.display()));
            let error_at = match expect.split_once(' ') {
                None if expect == "ok" => None,
                Some(("error", "-")) => Some(String::new()),
                Some(("error", at)) => Some(at.to_string()),
                _ => panic!("{}: bad expectation {expect:?}", path.display()),
            };
            let stricter = match header("thanos").as_deref() {
                None => false,
                Some("ok") => true,
                Some(other) => panic!("{}: bad `# thanos:` {other:?}", path.display()),
            };
            assert!(
                !stricter || error_at.is_some(),
                "{}: only a refused file can be stricter than Thanos",
                path.display()
            );
            Case {
                path,
                text,
                error_at,
                stricter,
            }
        })
        .collect()
}

fn name(case: &Case) -> String {
    case.path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// A line table: (rules-check accepts it, the text).
fn line_table(file: &str) -> Vec<(bool, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/rules")
        .join(file);
    std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (verdict, json) = l.split_once(' ').unwrap();
            let text: String = serde_json::from_str(json.trim_start())
                .unwrap_or_else(|e| panic!("{file}: {l}: {e}"));
            match verdict {
                "ok" => (true, text),
                "error" => (false, text),
                _ => panic!("{file}: bad verdict in {l}"),
            }
        })
        .collect()
}

/// One group `g` with a recording rule `r<i>` for each expression.
fn expressions_file(exprs: &[&str]) -> String {
    let mut out = String::from("groups:\n  - name: g\n    rules:\n");
    for (i, e) in exprs.iter().enumerate() {
        out.push_str(&format!(
            "      - record: r{i}\n        expr: {}\n",
            serde_json::to_string(e).unwrap()
        ));
    }
    out
}

/// One group `g` with an alerting rule `a` for each template, as its annotation `x`.
fn templates_file(texts: &[&str]) -> String {
    let mut out = String::from("groups:\n  - name: g\n    rules:\n");
    for t in texts {
        out.push_str(&format!(
            "      - alert: a\n        expr: up\n        annotations:\n          x: {}\n",
            serde_json::to_string(t).unwrap()
        ));
    }
    out
}

#[test]
fn expression_and_template_tables_match_our_verdicts() {
    let mut failures = Vec::new();
    for (file, build) in [
        ("expressions.txt", expressions_file as fn(&[&str]) -> String),
        ("templates.txt", templates_file),
    ] {
        let table = line_table(file);
        assert!(table.len() >= 100, "{file}: only {} lines", table.len());
        for (ok, text) in &table {
            let got = check_rule_file(&build(&[text]));
            if got.is_ok() != *ok {
                failures.push(format!("{file}: {text:?}: recorded {ok}, we say {got:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn table_is_large_and_covers_both_verdicts() {
    let cases = cases();
    let ok = cases.iter().filter(|c| c.error_at.is_none()).count();
    assert!(cases.len() >= 40, "only {} rule files", cases.len());
    assert!(
        ok >= 10 && cases.len() - ok >= 30,
        "{ok} good of {}",
        cases.len()
    );
}

#[test]
fn our_verdicts_match_the_recorded_expectations() {
    let mut failures = Vec::new();
    for case in cases() {
        let got = check_rule_file(&case.text);
        match (&case.error_at, got) {
            (None, Ok(_)) => {}
            (None, Err(errors)) => failures.push(format!(
                "{}: expected ok, got {}",
                name(&case),
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
            (Some(at), Ok(_)) => failures.push(format!(
                "{}: expected an error at {at:?}, got ok",
                name(&case)
            )),
            (Some(at), Err(errors)) => {
                let paths: Vec<String> = errors
                    .iter()
                    .map(|e| display_path(&e.location.path()))
                    .collect();
                if !paths.contains(at) {
                    failures.push(format!(
                        "{}: expected an error at {at:?}, got errors at {paths:?}: {}",
                        name(&case),
                        errors
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("; ")
                    ));
                }
                for e in &errors {
                    assert!(
                        !e.message.is_empty(),
                        "{}: an error without a message",
                        name(&case)
                    );
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn good_files_render_canonically_and_read_back_equal() {
    for case in cases().iter().filter(|c| c.error_at.is_none()) {
        let file = check_rule_file(&case.text).unwrap();
        let text = file.to_yaml();
        let again = check_rule_file(&text)
            .unwrap_or_else(|e| panic!("{}: rendered text refused: {e:?}\n{text}", name(case)));
        assert_eq!(again, file, "{}: round trip changed the groups", name(case));
        assert_eq!(
            again.to_yaml(),
            text,
            "{}: rendering is not stable",
            name(case)
        );
    }
}

/// The pinned `thanos` binary (as `tests/datapath/thanos.rs` of the provider finds it):
/// `$THANOS_BINARY`, or what `scripts/tools.sh path thanos` prints. `None` with the reason
/// printed when it is not built; under CI (`CI` set) that is a failure.
fn thanos_binary() -> Option<PathBuf> {
    let bin = match std::env::var_os("THANOS_BINARY") {
        Some(bin) => PathBuf::from(bin),
        None => {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            let out = Command::new(root.join("scripts/tools.sh"))
                .args(["path", "thanos"])
                .output()
                .expect("run scripts/tools.sh");
            if !out.status.success() {
                let why = format!(
                    "the thanos binary is not built ({}); run `scripts/tools.sh install thanos` (or `make tools`)",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                if std::env::var_os("CI").is_some() {
                    panic!("{why}");
                }
                eprintln!("SKIPPED: {why}");
                return None;
            }
            PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
        }
    };
    let tag = DEFAULT_THANOS_IMAGE.rsplit_once(':').unwrap().1;
    let out = Command::new(&bin).arg("--version").output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let want = format!("thanos, version {} ", tag.trim_start_matches('v'));
    assert!(
        text.lines().next().unwrap_or_default().starts_with(&want),
        "{} is not the version of {DEFAULT_THANOS_IMAGE}: {text}",
        bin.display()
    );
    Some(bin)
}

/// `thanos tools rules-check` on `files`: `Ok` when it accepts them all, else its errors.
fn rules_check(bin: &Path, files: &[&Path]) -> Result<(), String> {
    let mut cmd = Command::new(bin);
    cmd.args(["tools", "rules-check"]);
    for f in files {
        cmd.arg(format!("--rules={}", f.display()));
    }
    let out = cmd.output().unwrap();
    if out.status.success() {
        return Ok(());
    }
    let log = String::from_utf8_lossy(&out.stderr);
    Err(log
        .lines()
        .filter(|l| l.contains("level=error error="))
        .collect::<Vec<_>>()
        .join("\n"))
}

#[test]
fn thanos_rules_check_agrees() {
    let Some(bin) = thanos_binary() else {
        return;
    };
    let cases = cases();
    let mut disagreements = Vec::new();
    let mut stricter = Vec::new();
    for case in &cases {
        let ours_ok = check_rule_file(&case.text).is_ok();
        let thanos = rules_check(&bin, &[&case.path]);
        let want_thanos_ok = ours_ok || case.stricter;
        if thanos.is_ok() != want_thanos_ok {
            disagreements.push(format!(
                "{}: we say {}, rules-check says {}{}",
                name(case),
                if ours_ok { "ok" } else { "error" },
                if thanos.is_ok() { "ok" } else { "error" },
                thanos.err().map(|e| format!(":\n{e}")).unwrap_or_default()
            ));
        }
        if case.stricter {
            stricter.push(name(case));
        }
    }
    assert!(
        disagreements.is_empty(),
        "rules-check disagrees on {} of {} files:\n{}",
        disagreements.len(),
        cases.len(),
        disagreements.join("\n")
    );
    eprintln!(
        "rules-check agrees on all {} files ({} refused by us on purpose though rules-check accepts them: {})",
        cases.len(),
        stricter.len(),
        stricter.join(", ")
    );

    // The expression and template tables, one batch file each: rules-check names each refused
    // rule by its index ("group \"g\", rule 3, ...").
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rules-check-tables");
    std::fs::create_dir_all(&dir).unwrap();
    let index = |line: &str| -> Option<usize> {
        const NEEDLE: &str = "group \\\"g\\\", rule ";
        let rest = &line[line.find(NEEDLE)? + NEEDLE.len()..];
        rest[..rest.find(',')?].parse().ok()
    };
    for (file, build) in [
        ("expressions.txt", expressions_file as fn(&[&str]) -> String),
        ("templates.txt", templates_file),
    ] {
        let table = line_table(file);
        let texts: Vec<&str> = table.iter().map(|(_, t)| t.as_str()).collect();
        let path = dir.join(file.replace(".txt", ".yaml"));
        std::fs::write(&path, build(&texts)).unwrap();
        let refused: std::collections::BTreeSet<usize> = match rules_check(&bin, &[&path]) {
            Ok(()) => Default::default(),
            Err(log) => log.lines().filter_map(index).collect(),
        };
        let wrong: Vec<String> = table
            .iter()
            .enumerate()
            .filter(|(i, (ok, _))| refused.contains(i) == *ok)
            .map(|(i, (ok, t))| {
                format!("{file} line {i}: recorded {ok}, rules-check disagrees: {t:?}")
            })
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        eprintln!(
            "rules-check agrees on all {} entries of {file}",
            table.len()
        );
    }

    // What the ruler will read: the canonical rendering of every good file.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rules-check-rendered");
    std::fs::create_dir_all(&dir).unwrap();
    let mut rendered = Vec::new();
    for case in cases.iter().filter(|c| c.error_at.is_none()) {
        let path = dir.join(name(case));
        std::fs::write(&path, check_rule_file(&case.text).unwrap().to_yaml()).unwrap();
        rendered.push(path);
    }
    let refs: Vec<&Path> = rendered.iter().map(PathBuf::as_path).collect();
    if let Err(e) = rules_check(&bin, &refs) {
        panic!("rules-check refuses a rendered file:\n{e}");
    }
}
