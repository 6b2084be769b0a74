//! The release under test: `scripts/release.sh` (what `make release` runs) packaging this test
//! run's provider binary, signed with a throwaway GPG key, plus a signature of the same
//! SHA256SUMS by a second key for the test that expects it to be refused.
//!
//! The keys live in a temporary GNUPGHOME that is gone, with its gpg-agent, once the release
//! is signed: the tests only need the public key and the signatures.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::harness::{PROVIDER_VERSION, platform};

const BINARY: &str = env!("CARGO_BIN_EXE_terraform-provider-thanos");
const NAME: &str = "terraform-provider-thanos";

pub struct Release {
    pub dir: PathBuf,
    /// The binary the release packaged: a copy of this run's build, taken once (a build
    /// directory shared with other checkouts may replace the original mid-run).
    pub binary: PathBuf,
    /// The long (16 hex digit) id of the key that signed SHA256SUMS.
    pub key_id: String,
    /// Its ASCII-armored public key, as a registry publishes it.
    pub public_key: String,
    /// SHA256SUMS signed by another key, which the registry does not list.
    pub foreign_signature: Vec<u8>,
}

impl Release {
    /// The release shared by every test of this run (built on first use).
    pub fn get() -> &'static Release {
        static RELEASE: OnceLock<Release> = OnceLock::new();
        RELEASE.get_or_init(Release::build)
    }

    fn build() -> Release {
        let scratch = crate::harness::scratch_dir("registry-release");
        let binary = scratch.join(NAME);
        std::fs::copy(BINARY, &binary).expect("copy the provider binary");
        // Without debug information the test build is a quarter of its size, closer to a
        // release build, and quicker to zip, serve and unpack. Optional: binutils' strip.
        let _ = Command::new("strip")
            .arg("--strip-debug")
            .arg(&binary)
            .status();
        let dir = scratch.join("dist");
        let gnupg = tempfile::Builder::new()
            .prefix("gnupg")
            .tempdir()
            .expect("temporary GNUPGHOME");
        let keyring = Keyring(gnupg.path().to_owned());
        let (key_id, public_key) = keyring.generate("Release Signer <release@example.invalid>");
        let (other_id, _) = keyring.generate("Someone Else <else@example.invalid>");

        run_release_of(
            &binary,
            &dir,
            &[("GPG_KEY_ID", &key_id)],
            "022",
            Some(gnupg.path()),
        );
        let sums = dir.join(sums_name());
        let foreign = scratch.join("foreign.sig");
        keyring.sign(&other_id, &sums, &foreign);
        let foreign_signature = std::fs::read(&foreign).unwrap();
        keyring.stop_agent();
        Release {
            dir,
            binary,
            key_id,
            public_key,
            foreign_signature,
        }
    }

    pub fn zip_name(&self) -> String {
        format!("{NAME}_{PROVIDER_VERSION}_{}.zip", platform())
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.join(name))
            .unwrap_or_else(|e| panic!("{}: {e}", self.dir.join(name).display()))
    }

    pub fn zip(&self) -> Vec<u8> {
        self.read(&self.zip_name())
    }
}

pub fn sums_name() -> String {
    format!("{NAME}_{PROVIDER_VERSION}_SHA256SUMS")
}

pub fn signature_name() -> String {
    format!("{}.sig", sums_name())
}

pub fn manifest_name() -> String {
    format!("{NAME}_{PROVIDER_VERSION}_manifest.json")
}

/// Runs `scripts/release.sh` packaging `binary` into `dist`, under `umask`, with extra
/// environment. A binary built by Cargo for the tests, not a second `cargo build --release`:
/// `cargo test` holds the build directory's lock while tests run.
pub fn run_release_of(
    binary: &Path,
    dist: &Path,
    env: &[(&str, &str)],
    umask: &str,
    gnupg_home: Option<&Path>,
) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/release.sh");
    let mut command = Command::new("bash");
    command
        .args(["-c", "umask \"$1\" && exec bash \"$0\""])
        .arg(&script)
        .arg(umask)
        .env("RELEASE_BINARY", binary)
        .env("DIST", dist)
        .env_remove("GPG_KEY_ID")
        .env_remove("SOURCE_DATE_EPOCH")
        .envs(env.iter().copied());
    if let Some(home) = gnupg_home {
        command.env("GNUPGHOME", home);
    }
    let out = command.output().expect("run scripts/release.sh");
    assert!(
        out.status.success(),
        "scripts/release.sh failed\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A GnuPG home of throwaway keys without passphrases, used in batch mode only.
struct Keyring(PathBuf);

impl Keyring {
    fn gpg(&self, args: &[&str]) -> String {
        let out = Command::new("gpg")
            .env("GNUPGHOME", &self.0)
            .args(["--batch", "--no-tty"])
            .args(args)
            .output()
            .expect("run gpg (is GnuPG installed?)");
        assert!(
            out.status.success(),
            "gpg {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A new RSA signing key for `uid`: its long key id and armored public key. RSA because
    /// the public registry accepts RSA and DSA keys only.
    fn generate(&self, uid: &str) -> (String, String) {
        self.gpg(&[
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--quick-generate-key",
            uid,
            "rsa3072",
            "sign",
            "never",
        ]);
        let listing = self.gpg(&["--with-colons", "--list-keys", uid]);
        let key_id = listing
            .lines()
            .find_map(|l| l.strip_prefix("pub:"))
            .and_then(|l| l.split(':').nth(3))
            .expect("key id in gpg --list-keys")
            .to_owned();
        let armored = self.gpg(&["--armor", "--export", &key_id]);
        assert!(armored.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
        (key_id, armored)
    }

    fn sign(&self, key_id: &str, file: &Path, signature: &Path) {
        self.gpg(&[
            "--yes",
            "--local-user",
            key_id,
            "--detach-sign",
            "--output",
            signature.to_str().unwrap(),
            file.to_str().unwrap(),
        ]);
    }

    fn stop_agent(&self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", &self.0)
            .args(["--kill", "gpg-agent"])
            .status();
    }
}
