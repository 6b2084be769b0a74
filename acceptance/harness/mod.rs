//! The acceptance harness: runs the real `terraform` and `tofu` CLIs against the provider
//! binary built by this test run, installed through a filesystem mirror exactly as a user
//! installs it offline (`make install`), in a fresh working directory per test.
//!
//! Which CLIs: `terraform` from `$TERRAFORM` or the PATH; `tofu` from `$TOFU` or the project's
//! tool cache (`scripts/tools.sh path tofu`). A missing CLI is reported on stderr and the tests
//! run with the other one; with neither, the tests fail rather than pass silently.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub const PROVIDER_VERSION: &str = env!("CARGO_PKG_VERSION");
const BINARY: &str = env!("CARGO_BIN_EXE_terraform-provider-thanos");
/// Registry hosts the mirror serves the provider under: `paodin/thanos` means
/// registry.terraform.io to Terraform and registry.opentofu.org to OpenTofu.
const HOSTS: [&str; 2] = ["registry.terraform.io", "registry.opentofu.org"];

#[derive(Clone, Debug)]
pub struct Cli {
    /// `terraform` or `tofu`, for messages.
    pub name: &'static str,
    pub path: PathBuf,
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn find_terraform() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TERRAFORM") {
        return Some(PathBuf::from(p));
    }
    which("terraform")
}

fn find_tofu() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TOFU") {
        return Some(PathBuf::from(p));
    }
    let out = Command::new(repo_root().join("scripts/tools.sh"))
        .args(["path", "tofu"])
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    (out.status.success() && path.is_file())
        .then_some(path)
        .or_else(|| which("tofu"))
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// The CLIs available on this machine (at least one, or the calling test fails).
pub fn clis() -> Vec<Cli> {
    static FOUND: OnceLock<Vec<Cli>> = OnceLock::new();
    let found = FOUND.get_or_init(|| {
        clean_earlier_runs();
        let mut found = Vec::new();
        match find_terraform() {
            Some(path) => found.push(Cli { name: "terraform", path }),
            None => eprintln!("note: no terraform CLI (set TERRAFORM or put it on PATH): OpenTofu carries these tests"),
        }
        match find_tofu() {
            Some(path) => found.push(Cli { name: "tofu", path }),
            None => eprintln!("note: no tofu CLI (run `make tools` or set TOFU): Terraform carries these tests"),
        }
        found
    });
    assert!(
        !found.is_empty(),
        "neither terraform nor tofu is available: run `make tools`"
    );
    found.clone()
}

/// Removes earlier runs' directories under `target/acceptance`, once, before any of this
/// run's exist (every test starts with [`clis`] or [`scratch_dir`]).
fn clean_earlier_runs() {
    static CLEANED: OnceLock<()> = OnceLock::new();
    CLEANED.get_or_init(|| {
        let _ = std::fs::remove_dir_all(repo_root().join("target/acceptance"));
    });
}

/// A fresh directory of this run under `target/acceptance`, for files a test makes.
pub fn scratch_dir(name: &str) -> PathBuf {
    clean_earlier_runs();
    let dir = repo_root()
        .join("target/acceptance")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A filesystem mirror holding this build of the provider, shared by the tests of one run.
fn mirror() -> &'static Path {
    static MIRROR: OnceLock<PathBuf> = OnceLock::new();
    MIRROR.get_or_init(|| {
        let dir = repo_root()
            .join("target/acceptance")
            .join(format!("mirror-{}", std::process::id()));
        for host in HOSTS {
            let platform = dir
                .join(host)
                .join("paodin/thanos")
                .join(PROVIDER_VERSION)
                .join(platform());
            std::fs::create_dir_all(&platform).unwrap();
            let target = platform.join(format!("terraform-provider-thanos_v{PROVIDER_VERSION}"));
            if std::fs::hard_link(BINARY, &target).is_err() {
                std::fs::copy(BINARY, &target).expect("copy provider into the mirror");
            }
        }
        dir
    })
}

pub fn platform() -> String {
    let os = std::env::consts::OS;
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("{os}_{arch}")
}

/// A fresh working directory with a CLI configuration that installs the provider from the
/// mirror and nothing from the network.
pub struct Workdir {
    pub dir: PathBuf,
    cli_config: PathBuf,
}

impl Workdir {
    pub fn new(test: &str, cli: &Cli) -> Self {
        let dir = scratch_dir(&format!("{test}-{}", cli.name));
        let cli_config = dir.join("cli.tfrc");
        let hosts: Vec<String> = HOSTS
            .iter()
            .map(|h| format!("\"{h}/paodin/thanos\""))
            .collect();
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [{}]\n  }}\n}}\n",
                mirror().display(),
                hosts.join(", ")
            ),
        )
        .unwrap();
        Self { dir, cli_config }
    }

    /// Replaces the CLI configuration (by default: install from the filesystem mirror only).
    pub fn write_cli_config(&self, text: &str) {
        std::fs::write(&self.cli_config, text).unwrap();
    }

    /// Copies the files of `src` and its subdirectories (a configuration with its modules)
    /// into this directory.
    pub fn copy_dir(&self, src: &Path) {
        fn copy(from: &Path, to: &Path) {
            std::fs::create_dir_all(to).unwrap();
            for entry in std::fs::read_dir(from).unwrap() {
                let entry = entry.unwrap();
                let target = to.join(entry.file_name());
                if entry.file_type().unwrap().is_dir() {
                    copy(&entry.path(), &target);
                } else {
                    std::fs::copy(entry.path(), target).unwrap();
                }
            }
        }
        copy(src, &self.dir);
    }

    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir.join(name), text).unwrap();
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }

    /// The CLI as a command in this directory, never interactive, never colored.
    fn command(&self, cli: &Cli, args: &[&str]) -> Command {
        let mut command = Command::new(&cli.path);
        command
            .args(args)
            .current_dir(&self.dir)
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_PLUGIN_CACHE_DIR", "")
            .env_remove("TF_LOG");
        command
    }

    /// Starts the CLI without waiting (for tests that interrupt it); output is captured.
    pub fn spawn(&self, cli: &Cli, args: &[&str]) -> std::process::Child {
        self.spawn_env(cli, args, &[])
    }

    /// [`Workdir::spawn`] with extra environment variables.
    pub fn spawn_env(&self, cli: &Cli, args: &[&str], env: &[(&str, &str)]) -> std::process::Child {
        self.command(cli, args)
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", cli.path.display()))
    }

    /// Runs the CLI in this directory and waits for it.
    pub fn run(&self, cli: &Cli, args: &[&str]) -> Run {
        self.run_env(cli, args, &[])
    }

    /// [`Workdir::run`] with extra environment variables.
    pub fn run_env(&self, cli: &Cli, args: &[&str], env: &[(&str, &str)]) -> Run {
        let output = self
            .command(cli, args)
            .envs(env.iter().copied())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", cli.path.display()));
        Run {
            command: format!("{} {}", cli.name, args.join(" ")),
            output,
        }
    }

    /// `init`, which must succeed (offline, from the mirror).
    pub fn init(&self, cli: &Cli) -> Run {
        self.run(cli, &["init", "-no-color", "-input=false"])
            .success()
    }
}

pub struct Run {
    pub command: String,
    pub output: Output,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    #[track_caller]
    pub fn success(self) -> Self {
        assert!(
            self.output.status.success(),
            "`{}` failed ({:?})\n--- stdout\n{}\n--- stderr\n{}",
            self.command,
            self.code(),
            self.stdout(),
            self.stderr()
        );
        self
    }

    #[track_caller]
    pub fn failure(self) -> Self {
        assert!(
            !self.output.status.success(),
            "`{}` should have failed\n--- stdout\n{}",
            self.command,
            self.stdout()
        );
        self
    }
}

/// The `terraform { required_providers }` block every configuration starts with.
pub const REQUIRED_PROVIDERS: &str = r#"terraform {
  required_providers {
    thanos = {
      source = "paodin/thanos"
    }
  }
}
"#;
