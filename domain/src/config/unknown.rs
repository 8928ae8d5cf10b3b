//! Settings Roost does not know stop the start (README, Configuration): a misspelt
//! `ROOST_DATABSE_URL` would otherwise be ignored without a word, and the
//! server would run on its default database.
//!
//! The known names are the fields of [`RawConfig`], so a new setting is
//! known as soon as it is added there.

use std::path::Path;

use anyhow::bail;
use figment::{
    Provider,
    providers::{Format, Toml},
};

use super::RawConfig;

/// The prefix of Roost's environment variables.
pub const PREFIX: &str = "ROOST_";

/// Environment variables under the prefix that are not settings of the
/// file: the file itself.
const ENV_ONLY: [&str; 1] = ["config"];

/// Every setting's name, in lower case (the TOML key).
fn known() -> Vec<String> {
    match serde_json::to_value(RawConfig::default()) {
        Ok(serde_json::Value::Object(fields)) => fields.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Refuses a `ROOST_*` variable that names no setting. Other variables,
/// including the bare `DATABASE_URL`, `REDIS_URL`, `JWT_SECRET` and
/// `OTEL_*`, are not Roost's to judge.
pub fn check_env(names: impl IntoIterator<Item = String>) -> anyhow::Result<()> {
    let known = known();
    for name in names {
        let Some(setting) = strip_prefix(&name) else {
            continue;
        };
        let setting = setting.to_ascii_lowercase();
        if known.contains(&setting) || ENV_ONLY.contains(&setting.as_str()) {
            continue;
        }
        let mut candidates: Vec<&str> = known.iter().map(String::as_str).collect();
        candidates.extend(ENV_ONLY);
        match closest(&setting, &candidates) {
            Some(near) => bail!(
                "unknown setting {name}; did you mean {PREFIX}{}?",
                near.to_ascii_uppercase()
            ),
            None => bail!("unknown setting {name}"),
        }
    }
    Ok(())
}

/// `name` without `ROOST_` (in any case, as the environment is read).
fn strip_prefix(name: &str) -> Option<&str> {
    let head = name.get(..PREFIX.len())?;
    head.eq_ignore_ascii_case(PREFIX)
        .then(|| &name[PREFIX.len()..])
}

/// Refuses a key of the configuration file that names no setting.
pub fn check_file(file: &Path) -> anyhow::Result<()> {
    let data = Toml::file(file)
        .data()
        .map_err(|e| anyhow::anyhow!("invalid configuration file {}: {e}", file.display()))?;
    let known = known();
    let candidates: Vec<&str> = known.iter().map(String::as_str).collect();
    for key in data.values().flat_map(|dict| dict.keys()) {
        if known.contains(key) {
            continue;
        }
        match closest(key, &candidates) {
            Some(near) => bail!(
                "unknown setting {key} in {}; did you mean {near}?",
                file.display()
            ),
            None => bail!("unknown setting {key} in {}", file.display()),
        }
    }
    Ok(())
}

/// The candidate fewest edits away from `name` (the first of equals).
fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .min_by_key(|c| edit_distance(name, c))
        .copied()
}

/// Levenshtein distance: insertions, deletions and substitutions.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(names: &[&str]) -> anyhow::Result<()> {
        check_env(names.iter().map(|n| (*n).to_owned()))
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("database_url", "database_url"), 0);
        assert_eq!(edit_distance("databse_url", "database_url"), 1);
        assert_eq!(edit_distance("bnd", "bind"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn a_misspelt_variable_is_named_with_the_closest_setting() {
        let err = env(&["PATH", "ROOST_BIND", "ROOST_DATABSE_URL"]).expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "unknown setting ROOST_DATABSE_URL; did you mean ROOST_DATABASE_URL?"
        );
        let err = env(&["ROOST_PLAYGROUND_ASSET_DIR"]).expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "unknown setting ROOST_PLAYGROUND_ASSET_DIR; did you mean ROOST_PLAYGROUND_ASSETS_DIR?"
        );
    }

    #[test]
    fn known_and_foreign_variables_pass() {
        env(&[
            "ROOST_BIND",
            "ROOST_CONFIG",
            "roost_log_level",
            "ROOST_CORS_HEADERS",
            "ROOST_METRICS_BIND",
            "DATABASE_URL",
            "REDIS_URL",
            "JWT_SECRET",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_BSP_SCHEDULE_DELAY",
            "ROOSTER",
            "HOME",
        ])
        .expect("all known or not Roost's");
    }

    #[test]
    fn unknown_file_keys_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("roost.toml");
        std::fs::write(&file, "bind = \"127.0.0.1:9000\"\nlog_levl = \"warn\"\n").expect("write");
        let err = check_file(&file).expect_err("unknown");
        assert_eq!(
            err.to_string(),
            format!(
                "unknown setting log_levl in {}; did you mean log_level?",
                file.display()
            )
        );
        std::fs::write(&file, "bind = \"127.0.0.1:9000\"\nlog_level = \"warn\"\n").expect("write");
        check_file(&file).expect("known keys");
    }
}
