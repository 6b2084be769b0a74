//! The `terraform-provider-thanos` binary: Terraform and OpenTofu start it as a plugin.

use std::process::ExitCode;

use terraform_provider_thanos::provider::{PROVIDER_ADDRESS, ThanosProvider};
use tfplugin::framework::ProviderService;
use tfplugin::serve::{self, ServeError, ServeOptions};

const USAGE: &str = "\
usage: terraform-provider-thanos [--debug | --version | --help]

Terraform and OpenTofu start this binary themselves; see the README to install it.
  --debug     serve without Terraform and print TF_REATTACH_PROVIDERS to attach one
  --version   print the version";

fn main() -> ExitCode {
    let mut debug = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--debug" | "-debug" => debug = true,
            "--version" | "-version" | "-v" => {
                println!("terraform-provider-thanos {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            "--help" | "-help" | "-h" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument {other:?}\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }

    serve::logging::init();
    serve::install_panic_hook();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("terraform-provider-thanos: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let options = ServeOptions {
        provider_address: PROVIDER_ADDRESS.to_string(),
        debug,
    };
    let result = runtime.block_on(serve::serve(
        ProviderService::new(ThanosProvider::new()),
        options,
    ));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(ServeError::NotLaunchedByTerraform) => {
            eprintln!("{}", serve::handshake::NOT_A_PLUGIN_MESSAGE);
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("terraform-provider-thanos: {e}");
            ExitCode::FAILURE
        }
    }
}
