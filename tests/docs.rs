//! The committed registry docs must match what the schema generates: a stale page is a bug
//! users read. Regenerate with `make docs`.

#[test]
fn docs_are_generated_from_the_current_schema() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stale = Vec::new();
    for file in terraform_provider_thanos::docs::generate(root) {
        let committed =
            std::fs::read_to_string(root.join("docs").join(&file.path)).unwrap_or_default();
        if committed != file.text {
            stale.push(file.path);
        }
    }
    assert!(
        stale.is_empty(),
        "docs/ is stale for {stale:?}: run `make docs` and commit the result"
    );
}
