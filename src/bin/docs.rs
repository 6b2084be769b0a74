//! `make docs`: writes the registry documentation under `docs/` from the provider's schema and
//! the examples under `examples/`.

fn main() -> std::io::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in terraform_provider_thanos::docs::generate(root) {
        let path = root.join("docs").join(&file.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, file.text)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
