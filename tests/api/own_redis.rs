//! A Redis of a test's own: `redis-server` on a free port, without
//! persistence, in a temporary directory, which the test may stop, pause
//! (SIGSTOP), resume and start again.

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

pub struct OwnRedis {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
    paused: bool,
}

impl OwnRedis {
    /// Started and answering; `None`, and a note, without the binary.
    pub async fn start() -> Option<Self> {
        let mut redis = Self {
            child: None,
            port: crate::helpers::free_port(),
            dir: tempfile::tempdir().expect("tempdir"),
            paused: false,
        };
        if !redis.spawn() {
            eprintln!("skipped: needs the redis-server binary to start a Redis it can stop");
            return None;
        }
        redis.wait_until_up().await;
        Some(redis)
    }

    fn spawn(&mut self) -> bool {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .spawn();
        self.child = child.ok();
        self.child.is_some()
    }

    async fn wait_until_up(&self) {
        let client = redis::Client::open(self.url()).expect("url");
        for _ in 0..100 {
            if let Ok(mut conn) = client.get_multiplexed_async_connection().await
                && redis::cmd("PING")
                    .query_async::<String>(&mut conn)
                    .await
                    .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the test's Redis did not start");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it (what it held is gone).
    pub fn stop(&mut self) {
        self.resume();
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub async fn restart(&mut self) {
        self.stop();
        assert!(self.spawn(), "redis-server starts again");
        self.wait_until_up().await;
    }

    /// Freezes it: connections stay open and nothing answers.
    pub fn pause(&mut self) {
        self.signal("-STOP");
        self.paused = true;
    }

    pub fn resume(&mut self) {
        if self.paused {
            self.signal("-CONT");
            self.paused = false;
        }
    }

    fn signal(&self, signal: &str) {
        if let Some(child) = &self.child {
            let sent = Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status()
                .is_ok_and(|s| s.success());
            assert!(sent, "kill {signal}");
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
