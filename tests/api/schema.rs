/// `schema.graphql` is the schema the server really serves: every API
/// change shows up as a diff of that file.
#[test]
fn schema_file_matches_the_served_sdl() {
    let served = roost::schema::sdl();
    let file = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql at the repository root");
    assert!(
        file == served,
        "schema.graphql differs from the served schema; regenerate it with `cargo run -- schema > schema.graphql` and review the diff"
    );
}

#[test]
fn the_binary_prints_the_same_sdl() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_roost"))
        .arg("schema")
        .output()
        .expect("run roost schema");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).expect("utf-8"),
        roost::schema::sdl()
    );
}
