//! The domain crate's floors: each top-level module imports only modules
//! listed before it in `FLOORS`, never one above it. A new module must be
//! given its place here.

use std::{
    fs,
    path::{Path, PathBuf},
};

/// Bottom to top.
const FLOORS: [&str; 4] = ["config", "kernel", "infra", "users"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("readable source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules named by `crate::` paths in `text`, before its
/// first `#[cfg(test)]`; `use crate::{a::X, b::Y}` groups count each member.
fn imported(text: &str) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let Some(group) = rest.strip_prefix('{') else {
            found.push(head(rest));
            continue;
        };
        let body = &group[..group.find("};").unwrap_or(group.len())];
        let (mut depth, mut start) = (0, 0);
        for (i, c) in body.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    found.push(head(&body[start..i]));
                    start = i + 1;
                }
                _ => {}
            }
        }
        found.push(head(&body[start..]));
    }
    found.retain(|m| !m.is_empty());
    found
}

fn head(path: &str) -> String {
    path.trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

#[test]
fn every_module_imports_only_the_floors_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut upward = Vec::new();
    for entry in fs::read_dir(&src).expect("domain/src") {
        let path = entry.expect("a folder entry").path();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        if name == "lib" {
            continue;
        }
        let Some(floor) = FLOORS.iter().position(|f| *f == name) else {
            panic!("domain/src/{name} has no floor: add it to FLOORS in domain/tests/floors.rs");
        };
        let mut files = Vec::new();
        if path.is_dir() {
            rust_files(&path, &mut files);
        } else {
            files.push(path.clone());
        }
        for file in files {
            let text = fs::read_to_string(&file).expect("a readable file");
            for target in imported(&text) {
                match FLOORS.iter().position(|f| *f == target) {
                    Some(at) if at <= floor => {}
                    _ => upward.push(format!(
                        "{} imports crate::{target}",
                        file.strip_prefix(&src).unwrap_or(&file).display()
                    )),
                }
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that go up (bottom to top: {FLOORS:?}):\n{}",
        upward.join("\n")
    );
}

#[test]
fn the_check_sees_plain_paths_and_groups() {
    assert_eq!(
        imported(
            "use crate::{config::X, infra::{db, redis}};\nlet a = crate::kernel::money::Amount;"
        ),
        ["config", "infra", "kernel"]
    );
    assert!(imported("#[cfg(test)]\nmod tests { use crate::infra::db; }").is_empty());
}
