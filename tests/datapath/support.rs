//! What every data-path test needs: a work directory kept on failure, specs from JSON,
//! starting and stopping pods' processes, and reading query results.

// Shared by several test binaries (datapath, crosscluster): not all use every item.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::cluster::Launch;
use crate::thanos::Process;

/// How long a process may take to exit after SIGTERM.
pub const STOP: Duration = Duration::from_secs(20);

/// A temp dir that is kept (and its path printed) when the test fails or `DATAPATH_KEEP` is
/// set, for the logs.
pub struct Work(Option<tempfile::TempDir>);

impl Work {
    pub fn new() -> Work {
        Work(Some(
            tempfile::Builder::new()
                .prefix("datapath-")
                .tempdir()
                .unwrap(),
        ))
    }
    pub fn path(&self) -> &Path {
        self.0.as_ref().unwrap().path()
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        if (std::thread::panicking() || std::env::var_os("DATAPATH_KEEP").is_some())
            && let Some(d) = self.0.take()
        {
            eprintln!("kept the test's files and logs in {}", d.keep().display());
        }
    }
}

/// The validated spec of a configuration written as JSON (see
/// `terraform_provider_thanos::testing`), as a plan makes it.
pub fn spec<K: terraform_provider_thanos::lifecycle::Kind>(v: serde_json::Value) -> K::Spec {
    terraform_provider_thanos::testing::spec::<K>(&v)
        .unwrap_or_else(|e| panic!("invalid configuration: {e:#?}"))
}

pub fn with(mut base: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

pub fn http_addr(l: &Launch) -> String {
    format!("{}:10902", l.ip)
}

/// Starts a pod container's process, logging to `<work>/<pod>[.<container>].log`.
pub fn start(bin: &Path, work: &Path, l: &Launch) -> Process {
    let log = work.join(format!("{}.log", l.name.replace('/', ".")));
    Process::start(bin, &l.name, &l.args, &log)
}

/// Stops every process with SIGTERM (all at once, as a namespace deletion would) and asserts
/// each exits with status 0 and logged no error.
pub fn stop_all(procs: &mut [Process]) {
    stop_all_expecting(procs, &[]);
}

/// [`stop_all`], where error lines that contain one of `expected` (the errors a test provokes)
/// are allowed.
pub fn stop_all_expecting(procs: &mut [Process], expected: &[String]) {
    for p in procs.iter_mut() {
        p.terminate();
    }
    let mut failures = Vec::new();
    for p in procs.iter_mut() {
        let status = p.stop(STOP);
        let bad: Vec<String> = p
            .bad_log_lines()
            .into_iter()
            .filter(|l| !expected.iter().any(|e| l.contains(e.as_str())))
            .collect();
        if !status.success() || !bad.is_empty() {
            failures.push(format!(
                "{} exited with {status}; error lines:\n{}\n{}",
                p.name,
                bad.join("\n"),
                p.log_tail()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The error a Thanos ruler can log while it shuts down, whatever it was given.
///
/// `thanos rule` runs its TSDB and its rule manager as two actors of one `oklog/run` group
/// (`cmd/thanos/rule.go` of v0.42.5): SIGTERM interrupts both at once, the TSDB actor closes the
/// database at once, and a group evaluation still in flight then fails to read the closed head
/// ("Failed to get Querier ... can't read from a closed head"). An upstream shutdown order, not
/// something the rendered configuration can cause or avoid, so a ruler's stop allows exactly
/// this line.
pub const RULER_CLOSED_HEAD: &str = "can't read from a closed head";

pub fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// The last lines of every process's log, for failure messages.
pub fn logs(procs: &[Process]) -> String {
    procs
        .iter()
        .map(Process::log_tail)
        .collect::<Vec<_>>()
        .join("\n")
}

/// One series of a query result: labels and `(ms, value)` samples.
pub type Series = (BTreeMap<String, String>, Vec<(i64, f64)>);

/// Every series of a Prometheus matrix result.
pub fn parse_matrix(data: &serde_json::Value) -> Vec<Series> {
    assert_eq!(data["resultType"], "matrix", "{data}");
    data["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let labels = s["metric"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            let values = s["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| {
                    let ts = v[0].as_f64().unwrap();
                    let val: f64 = v[1].as_str().unwrap().parse().unwrap();
                    ((ts * 1000.0).round() as i64, val)
                })
                .collect();
            (labels, values)
        })
        .collect()
}

/// Waits, if needed, until the clock is outside the minute in which Thanos receive prunes.
///
/// Thanos v0.42.5 receive runs its tenant pruning check every minute but prunes only in the
/// first minute of every fourth hour of the day (UTC: `pruneInterval`, twice the 2h block
/// duration, in `cmd/thanos/receive.go`), the check at start included; with a retention set it
/// then reads each tenant's TSDB head, also of a tenant whose TSDB is still being opened, and
/// crashes on the nil TSDB (`shouldBeMarkedInactive`, `pkg/receive/multitsdb.go`). An
/// ingestor with `local_tsdb_retention` started in that minute can therefore die at start: an
/// upstream race the data-path tests do not set out to show, so they start ingestors outside
/// it.
pub fn outside_receive_prune_minute() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 86_400;
    let (minute, second) = (now / 60, now % 60);
    let wait = if minute % 240 == 0 {
        61 - second
    } else if (minute + 1) % 240 == 0 && second >= 45 {
        121 - second
    } else {
        0
    };
    if wait > 0 {
        eprintln!("waiting {wait}s: Thanos receive prunes tenants in this minute (see above)");
        std::thread::sleep(Duration::from_secs(wait));
    }
}
