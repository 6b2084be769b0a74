//! The Pulumi side of the acceptance tests: the pinned Pulumi CLI, its YAML language host and
//! the any-Terraform-provider bridge plugin from the tool cache (`scripts/tools.sh`), run the way
//! a user runs them offline: a file backend, no Pulumi Cloud, no plugin downloads.
//!
//! Each test gets a [`Sandbox`]: a Pulumi home of its own (the bridge plugin is installed into
//! it with `pulumi plugin install --file`, as a user installs a plugin they built), a file
//! backend, and this build's provider binary hard-linked into a directory of its own. The bridge
//! takes a local provider as a path ending in `terraform-provider-<name>` but then runs the first
//! file of that directory whose name starts with it, so the binary must not sit beside others
//! (cargo's `target/debug` also holds `terraform-provider-thanos.d`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::Run;

/// This test run's provider binary.
const BINARY: &str = env!("CARGO_BIN_EXE_terraform-provider-thanos");

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A `NAME=value` line of `tools/versions.env`.
pub fn pinned_version(name: &str) -> String {
    let text = std::fs::read_to_string(repo_root().join("tools/versions.env")).unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("{name} is not in tools/versions.env"))
        .trim()
        .to_owned()
}

/// Something a test needs is missing: outside CI the test says so and passes (as the cluster
/// tests do without a cluster); in CI, where `make test` builds every tool first, it fails.
pub fn missing(what: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{what}: `make tools` builds the Pulumi tools before the tests in CI"
    );
    eprintln!("skipped: {what} (run `make tools`)");
}

fn tool_path(binary: &str) -> Option<PathBuf> {
    let out = Command::new(repo_root().join("scripts/tools.sh"))
        .args(["path", binary])
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    (out.status.success() && path.is_file()).then_some(path)
}

/// The pinned Pulumi binaries.
#[derive(Clone, Debug)]
pub struct Tools {
    pub pulumi: PathBuf,
    /// The YAML language host; the CLI finds it on PATH (it looks for "bundled" language hosts
    /// only beside its own executable, and refuses to install them as plugins).
    pub language_yaml: PathBuf,
    /// `pulumi-resource-terraform-provider`, the bridge's `dynamic` package.
    pub bridge: PathBuf,
}

impl Tools {
    /// The tools from the cache, or `None` (after [`missing`]) when one is not built.
    pub fn find() -> Option<Self> {
        let mut found = Vec::new();
        for binary in [
            "pulumi",
            "pulumi-language-yaml",
            "pulumi-resource-terraform-provider",
        ] {
            match tool_path(binary) {
                Some(path) => found.push(path),
                None => {
                    missing(&format!("{binary} is not built"));
                    return None;
                }
            }
        }
        let bridge = found.pop().unwrap();
        let language_yaml = found.pop().unwrap();
        let pulumi = found.pop().unwrap();
        Some(Self {
            pulumi,
            language_yaml,
            bridge,
        })
    }
}

/// A Pulumi home, a file backend and a copy of the provider for one test.
pub struct Sandbox {
    pub root: PathBuf,
    home: PathBuf,
    backend: PathBuf,
    /// Absolute path of the provider binary, as `pulumi package add terraform-provider` takes it.
    pub provider: PathBuf,
    /// Directories put before the PATH the tests run with.
    path: Vec<PathBuf>,
    tools: Tools,
}

/// Plugins Pulumi leaves running end with the test: the bridge (and the provider it serves)
/// outlives some commands, orphaned, and CI ran with dozens of them. Only processes whose
/// executable lies in this sandbox are stopped.
impl Drop for Sandbox {
    fn drop(&mut self) {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return;
        };
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if !pid.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let ours = std::fs::read_link(entry.path().join("exe"))
                .is_ok_and(|exe| exe.starts_with(&self.root));
            if ours {
                let _ = Command::new("kill").args(["-KILL", &pid]).status();
            }
        }
    }
}

impl Sandbox {
    pub fn new(test: &str, tools: Tools) -> Self {
        // Not under target/acceptance: the terraform harness clears that directory when its
        // first test starts, which may be while this one runs.
        let root = repo_root()
            .join("target/acceptance-pulumi")
            .join(format!("{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let (home, backend) = (root.join("home"), root.join("backend"));
        let provider_dir = root.join("provider");
        for dir in [&home, &backend, &provider_dir] {
            std::fs::create_dir_all(dir).unwrap();
        }
        let provider = provider_dir.join("terraform-provider-thanos");
        if std::fs::hard_link(BINARY, &provider).is_err() {
            std::fs::copy(BINARY, &provider).expect("copy the provider binary");
        }
        let path = vec![tools.language_yaml.parent().unwrap().to_path_buf()];
        let sandbox = Self {
            root,
            home,
            backend,
            provider,
            path,
            tools,
        };
        // What a user does with a plugin they built themselves; with automatic plugin
        // acquisition off, nothing is looked up anywhere else.
        let version = pinned_version("PULUMI_TERRAFORM_BRIDGE_VERSION");
        let bridge = sandbox.tools.bridge.display().to_string();
        sandbox
            .run(
                &sandbox.root,
                &[
                    "plugin",
                    "install",
                    "resource",
                    "terraform-provider",
                    &version,
                    "--file",
                    &bridge,
                ],
            )
            .success();
        sandbox
    }

    /// Puts `dir` first on the PATH of every later command (the SDK test's language hosts).
    pub fn prepend_path(&mut self, dir: &Path) {
        self.path.insert(0, dir.to_path_buf());
    }

    /// `pulumi ARGS` in `dir`: never interactive, never colored, offline.
    pub fn command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut path: Vec<PathBuf> = self.path.clone();
        path.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let mut command = Command::new(&self.tools.pulumi);
        command
            .args(["--non-interactive", "--color", "never"])
            .args(args)
            .current_dir(dir)
            .env("PATH", std::env::join_paths(path).unwrap())
            .env("PULUMI_HOME", &self.home)
            .env(
                "PULUMI_BACKEND_URL",
                format!("file://{}", self.backend.display()),
            )
            // the stacks' secrets provider is a passphrase; an empty one is enough here
            .env("PULUMI_CONFIG_PASSPHRASE", "")
            .env("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
            .env("PULUMI_SKIP_UPDATE_CHECK", "true")
            .env_remove("PULUMI_ACCESS_TOKEN")
            .env_remove("PULUMI_CONFIG_PASSPHRASE_FILE")
            .env_remove("PULUMI_SKIP_CONFIRMATIONS");
        command
    }

    pub fn run(&self, dir: &Path, args: &[&str]) -> Run {
        let output = self
            .command(dir, args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.tools.pulumi.display()));
        Run {
            command: format!("pulumi {}", args.join(" ")),
            output,
        }
    }

    /// A project directory named `name` with `Pulumi.yaml` = `program`.
    pub fn project(&self, name: &str, program: &str) -> Project<'_> {
        let dir = self.root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("Pulumi.yaml"), program).unwrap();
        Project { sandbox: self, dir }
    }
}

/// A Pulumi project on disk.
pub struct Project<'a> {
    sandbox: &'a Sandbox,
    pub dir: PathBuf,
}

impl Project<'_> {
    pub fn run(&self, args: &[&str]) -> Run {
        self.sandbox.run(&self.dir, args)
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }

    #[track_caller]
    pub fn config_set(&self, key: &str, value: &str) {
        self.run(&["config", "set", key, value]).success();
    }

    #[track_caller]
    pub fn config_set_secret(&self, key: &str, value: &str) {
        self.run(&["config", "set", "--secret", key, value])
            .success();
    }

    #[track_caller]
    pub fn config_rm(&self, key: &str) {
        self.run(&["config", "rm", key]).success();
    }

    /// The current stack's outputs.
    #[track_caller]
    pub fn outputs(&self) -> serde_json::Value {
        let run = self.run(&["stack", "output", "--json"]).success();
        serde_json::from_str(&run.stdout()).expect("stack outputs are JSON")
    }

    /// What a preview would do, one line per step that is not `same`: operation, resource name
    /// and the properties the provider reports as different (Pulumi's `diffReasons`). Pulumi's
    /// text diff does not show a property whose value goes from null to an empty list, this
    /// does.
    pub fn planned_steps(&self) -> String {
        let run = self.run(&["preview", "--json"]);
        let Ok(plan) = serde_json::from_str::<serde_json::Value>(&run.stdout()) else {
            return format!("(no JSON preview)\n{}{}", run.stdout(), run.stderr());
        };
        let steps = plan["steps"].as_array().cloned().unwrap_or_default();
        steps
            .iter()
            .filter(|s| s["op"] != "same")
            .map(|s| {
                format!(
                    "{} {}: diffReasons {}",
                    s["op"].as_str().unwrap_or("?"),
                    s["urn"]
                        .as_str()
                        .unwrap_or("?")
                        .rsplit("::")
                        .next()
                        .unwrap(),
                    s["diffReasons"]
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// stdout and stderr of a run, for assertions on what a user reads.
pub fn text(run: &Run) -> String {
    format!("{}{}", run.stdout(), run.stderr())
}

/// Expectations of a long scenario that are checked without stopping it: each failure is
/// recorded with where it was checked and what was seen, and [`Findings::finish`] fails the test
/// with all of them, so one run reports every step that does not hold, not only the first.
/// Steps whose failure leaves nothing sensible to check afterwards use plain assertions.
#[derive(Default)]
pub struct Findings(Vec<String>);

impl Findings {
    #[track_caller]
    pub fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            let at = std::panic::Location::caller();
            self.0
                .push(format!("at {}:{}: {}", at.file(), at.line(), what()));
        }
    }

    pub fn finish(self) {
        assert!(
            self.0.is_empty(),
            "{} expectation(s) failed:\n\n{}",
            self.0.len(),
            self.0.join("\n\n---\n\n")
        );
    }
}
