//! The real `thanos` binary: finding it, giving each test its own loopback addresses, and
//! running processes that are always stopped (SIGTERM by the test, SIGKILL on drop).

// Shared by several test binaries (datapath, crosscluster): not all use every item.
#![allow(dead_code)]

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use thanos_render::common::DEFAULT_THANOS_IMAGE;

/// The ports a pod's processes bind on its address: Thanos's grpc, http, remote write and the
/// Cap'n Proto replication server of a receive, and the listeners of an envoy sidecar
/// (`127.0.0.1:11000 + i` in the pod) for up to six proxied stores.
pub const PORTS: [u16; 10] = [
    10901, 10902, 19291, 19391, 11000, 11001, 11002, 11003, 11004, 11005,
];

/// The binary `scripts/tools.sh` built for the pinned version (or `$THANOS_BINARY`), after
/// checking that its `--version` is the tag of the provider's default image. `None` (with the
/// reason printed) when it is not built; under CI (`CI` set) that is a failure instead.
pub fn binary() -> Option<PathBuf> {
    let bin = match std::env::var_os("THANOS_BINARY") {
        Some(bin) => PathBuf::from(bin),
        None => tool_path("thanos")?,
    };
    assert_version(&bin);
    Some(bin)
}

/// Where `scripts/tools.sh` put a pinned tool's binary. `None` (with the reason printed) when
/// it is not built; under CI (`CI` set) that is a failure instead.
pub fn tool_path(tool: &str) -> Option<PathBuf> {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new(format!("{root}/scripts/tools.sh"))
        .args(["path", tool])
        .output()
        .expect("run scripts/tools.sh");
    if !out.status.success() {
        let why = format!(
            "the {tool} binary is not installed ({}); run `scripts/tools.sh install {tool}` (or `make tools`)",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        if std::env::var_os("CI").is_some() {
            panic!("{why}");
        }
        eprintln!("SKIPPED: {why}");
        return None;
    }
    Some(PathBuf::from(String::from_utf8(out.stdout).unwrap().trim()))
}

/// `thanos --version` must report the tag of [`DEFAULT_THANOS_IMAGE`]: the test runs the
/// version users get.
fn assert_version(bin: &Path) {
    let tag = DEFAULT_THANOS_IMAGE
        .rsplit_once(':')
        .map(|(_, t)| t)
        .expect("image has a tag");
    let out = Command::new(bin).arg("--version").output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let first = text.lines().next().unwrap_or_default();
    let want = format!("thanos, version {} ", tag.trim_start_matches('v'));
    assert!(
        first.starts_with(&want),
        "{} reports {first:?}, but the default image is {DEFAULT_THANOS_IMAGE}",
        bin.display()
    );
}

/// What a Thanos component logs when SIGTERM reaches it (`interrupt` in `cmd/thanos/main.go`
/// of v0.42.5); what it logs after this line is its shutdown.
pub const CAUGHT_SIGNAL: &str = "caught signal. Exiting.";

/// The error of work a component's shutdown cancels: the signal cancels the context of
/// whatever is still in flight (a ruler's rule evaluation querying its querier, a request
/// being proxied), and some components log that at level error. Allowed only after the
/// process's own [`CAUGHT_SIGNAL`] line, where the test's own SIGTERM is its cause; the same
/// error earlier fails the test.
pub const SHUTDOWN_CANCELLED: &str = "context canceled";

/// The Go build tags upstream release binaries (and the image) are built with (`.promu.yml`).
pub const RELEASE_TAGS: &[&str] = &["netgo", "slicelabels"];

/// Panics unless `bin` was built with [`RELEASE_TAGS`], read from the Go build info embedded
/// in the binary (what `go version -m` prints). Without `slicelabels`, Thanos' zero-copy label
/// conversion misreads Prometheus' default label layout: an ingestor panics (`slice bounds out
/// of range` in `labels.decodeString`) on every forwarded write, so the router answers 503.
pub fn assert_release_build(bin: &Path) {
    let bytes = std::fs::read(bin).unwrap();
    let needle = b"\nbuild\t-tags=";
    let tags = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| {
            let rest = &bytes[i + needle.len()..];
            let end = rest.iter().position(|&b| b == b'\n').unwrap_or(0);
            String::from_utf8_lossy(&rest[..end]).into_owned()
        })
        .unwrap_or_default();
    let have: Vec<&str> = tags.split(',').collect();
    let missing: Vec<&&str> = RELEASE_TAGS.iter().filter(|t| !have.contains(t)).collect();
    assert!(
        missing.is_empty(),
        "{} was built without the Go build tags {missing:?} (it has -tags={tags:?}); upstream \
         release binaries and the image are built with -tags {}. Without slicelabels a receive \
         ingestor panics on every forwarded write. Rebuild it with those tags (scripts/tools.sh \
         must pass them to go build).",
        bin.display(),
        RELEASE_TAGS.join(",")
    );
}

/// A block of loopback addresses this test alone uses: an exclusive lock file per block (so
/// concurrent test runs on the machine never share one) and every rendered port free on
/// every address (so nothing else already listens there).
pub struct IpBlock {
    pub ips: Vec<Ipv4Addr>,
    _lock: File,
}

const BLOCK: u8 = 12;

impl IpBlock {
    pub fn acquire() -> IpBlock {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            // 127.0.0.1 is the local cluster's; blocks start at .16.
            for start in (16..=240u8).step_by(usize::from(BLOCK)) {
                let path = std::env::temp_dir().join(format!(
                    "terraform-provider-thanos-datapath-127.0.0.{start}.lock"
                ));
                let file = File::create(&path).unwrap();
                if file.try_lock().is_err() {
                    continue;
                }
                let ips: Vec<Ipv4Addr> = (start..start + BLOCK)
                    .map(|i| Ipv4Addr::new(127, 0, 0, i))
                    .collect();
                let free = ips
                    .iter()
                    .all(|ip| PORTS.iter().all(|p| TcpListener::bind((*ip, *p)).is_ok()));
                if free {
                    return IpBlock { ips, _lock: file };
                }
            }
            assert!(
                Instant::now() < deadline,
                "no free block of loopback addresses"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// A running Thanos process. Dropping it kills it.
pub struct Process {
    pub name: String,
    pub log: PathBuf,
    child: Child,
    status: Option<ExitStatus>,
}

impl Process {
    /// Starts `bin args…`, stdout and stderr to `log`.
    pub fn start(bin: &Path, name: &str, args: &[String], log: &Path) -> Process {
        let out = File::create(log).unwrap();
        let child = Command::new(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        Process {
            name: name.to_owned(),
            log: log.to_owned(),
            child,
            status: None,
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last lines of the log, for failure messages.
    pub fn log_tail(&self) -> String {
        let mut f = File::open(&self.log).unwrap();
        let len = f.metadata().unwrap().len();
        f.seek(SeekFrom::Start(len.saturating_sub(6000))).unwrap();
        let mut s = String::new();
        let _ = f.read_to_string(&mut s);
        format!("--- {} ({}) ---\n{s}", self.name, self.log.display())
    }

    /// The exit status if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().unwrap();
        }
        self.status
    }

    /// Waits for the process to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(s) = self.exited() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Polls `http://<addr>/-/ready` until 200; panics with the log if the process exits or
    /// the deadline passes.
    pub fn wait_ready(&mut self, http: &str, deadline: Instant) {
        let agent = crate::remote_write::agent();
        loop {
            if let Some(s) = self.exited() {
                panic!(
                    "{} exited ({s}) before it was ready\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            if let Ok(r) = agent.get(format!("http://{http}/-/ready")).call()
                && r.status() == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} is not ready at http://{http}/-/ready\n{}",
                self.name,
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Sends SIGTERM (what the kubelet sends on pod deletion).
    pub fn terminate(&mut self) {
        if self.exited().is_none() {
            let pid = rustix::process::Pid::from_child(&self.child);
            rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        }
    }

    /// SIGTERM, then waits up to `timeout` for the exit status; panics (after SIGKILL) if the
    /// process does not stop.
    pub fn stop(&mut self, timeout: Duration) -> ExitStatus {
        self.terminate();
        match self.wait_exit(timeout) {
            Some(s) => s,
            None => {
                let _ = self.child.kill();
                panic!(
                    "{} did not exit within {timeout:?} of SIGTERM\n{}",
                    self.name,
                    self.log_tail()
                )
            }
        }
    }

    /// Log lines that are errors (`level=error`) or name a flag problem, except the
    /// cancellations the test's own SIGTERM causes (see [`SHUTDOWN_CANCELLED`]).
    pub fn bad_log_lines(&self) -> Vec<String> {
        let mut stopping = false;
        self.log_text()
            .lines()
            .filter(|l| {
                stopping |= l.contains(CAUGHT_SIGNAL);
                let bad = l.contains("level=error")
                    || l.contains("unknown long flag")
                    || l.contains("expected argument for flag")
                    || l.contains("unexpected ");
                bad && !(stopping && l.contains(SHUTDOWN_CANCELLED))
            })
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.exited().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
