//! A real S3 server on loopback: the pinned MinIO (`scripts/tools.sh path minio`), single
//! drive, one fixed key pair, SigV4 enforced (a wrong secret key is refused with
//! `SignatureDoesNotMatch`). MinIO is the server Thanos' own e2e tests run against, and its S3
//! client (minio-go) is the one Thanos uses.

use std::fs::File;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The port MinIO serves S3 on (on the address it is given); the console gets the next one.
pub const PORT: u16 = 9000;
/// The region MinIO signs for; a client signing for another one is refused.
pub const REGION: &str = "us-east-1";

/// The MinIO binary, or `None` (with the reason printed) when it is not built; under CI (`CI`
/// set) that is a failure instead, as for `thanos`.
pub fn binary() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("MINIO_BINARY") {
        return Some(PathBuf::from(bin));
    }
    super::thanos::tool_path("minio")
}

/// A running MinIO. Dropping it kills it.
pub struct Minio {
    pub endpoint: String,
    pub log: PathBuf,
    child: Child,
}

impl Minio {
    /// Starts MinIO on `ip:9000` with its drive in `<dir>/data`, the root key pair
    /// `access`/`secret`, and `buckets` already there (a top-level directory of the drive is
    /// a bucket to MinIO). Returns once it answers its readiness probe.
    pub fn start(
        bin: &Path,
        dir: &Path,
        ip: Ipv4Addr,
        access: &str,
        secret: &str,
        buckets: &[&str],
    ) -> Minio {
        let data = dir.join("data");
        for b in buckets {
            std::fs::create_dir_all(data.join(b)).unwrap();
        }
        let log = dir.join("minio.log");
        let out = File::create(&log).unwrap();
        let child = Command::new(bin)
            .arg("server")
            .arg(format!("--address={ip}:{PORT}"))
            .arg(format!("--console-address={ip}:{}", PORT + 1))
            .arg(&data)
            .env("MINIO_ROOT_USER", access)
            .env("MINIO_ROOT_PASSWORD", secret)
            .env("MINIO_BROWSER", "off")
            .env("MINIO_UPDATE", "off")
            .env("MINIO_SITE_REGION", REGION)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("start minio: {e}"));
        let mut m = Minio {
            endpoint: format!("{ip}:{PORT}"),
            log,
            child,
        };
        m.wait_ready();
        m
    }

    fn wait_ready(&mut self) {
        let agent = crate::remote_write::agent();
        let url = format!("http://{}/minio/health/ready", self.endpoint);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                panic!(
                    "minio exited ({s}) before it was ready\n{}",
                    self.log_text()
                );
            }
            if let Ok(r) = agent.get(&url).call()
                && r.status() == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "minio is not ready at {url}\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Minio {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
