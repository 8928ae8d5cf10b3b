//! Start-up configuration through the real binary.

use std::process::Command;

fn roost_serve(envs: &[(&str, &str)]) -> std::process::Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_roost"));
    cmd.arg("serve")
        .env("ROOST_DATA_DIR", dir.path())
        .env("ROOST_BIND", "127.0.0.1:0")
        .env_remove("JWT_SECRET")
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("run roost")
}

#[test]
fn production_refuses_to_start_without_a_jwt_secret() {
    let out = roost_serve(&[("ROOST_ENV", "production")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("JWT_SECRET must be set when ROOST_ENV=production"),
        "{stderr}"
    );
}

#[test]
fn production_refuses_a_placeholder_secret() {
    let out = roost_serve(&[("ROOST_ENV", "production"), ("JWT_SECRET", "change-me")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("JWT_SECRET is a placeholder"));
}

#[test]
fn bad_settings_are_named() {
    let out = roost_serve(&[("ROOST_ACCESS_TOKEN_TTL", "soon")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("ACCESS_TOKEN_TTL"), "{stderr}");
    let out = roost_serve(&[("DATABASE_URL", "mysql://localhost/roost")]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("DATABASE_URL must start with"));
}

#[test]
fn a_config_file_is_read_and_the_environment_wins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("roost.toml");
    std::fs::write(&file, "env = \"production\"\njwt_secret = \"change-me\"\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_roost"))
        .args(["--config", file.to_str().expect("utf-8"), "serve"])
        .env("ROOST_DATA_DIR", dir.path())
        .env_remove("JWT_SECRET")
        .env_remove("ROOST_ENV")
        .output()
        .expect("run");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("JWT_SECRET is a placeholder"),
        "the file was read"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_roost"))
        .args(["--config", file.to_str().expect("utf-8"), "serve"])
        .env("ROOST_DATA_DIR", dir.path())
        .env("ROOST_ENV", "production")
        .env("JWT_SECRET", "x")
        .output()
        .expect("run");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("at least 32 bytes"),
        "the environment won"
    );
}
