//! Starts Debian's `prometheus` on a free loopback port with a temporary data folder, waits for
//! the log line that says it is ready (no sleeps), and stops it when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct Prometheus {
    child: Child,
    pub port: u16,
    pub data: tempfile::TempDir,
    log_lines: mpsc::Receiver<String>,
}

impl Prometheus {
    pub fn start() -> Prometheus {
        Self::start_in(tempfile::tempdir().unwrap(), super::free_port())
    }

    /// Starts on a given data folder and port (used to restart the same server).
    pub fn start_in(data: tempfile::TempDir, port: u16) -> Prometheus {
        Self::start_with(data, port, "")
    }

    /// Starts with `extra` appended to its configuration (e.g. a `remote_write` section and a
    /// scrape of itself).
    pub fn start_with(data: tempfile::TempDir, port: u16, extra: &str) -> Prometheus {
        Self::start_featuring(data, port, extra, &[])
    }

    /// Native histograms and exemplar storage on (`--enable-feature=native-histograms,exemplar-storage`).
    pub fn start_native() -> Prometheus {
        Self::start_featuring(tempfile::tempdir().unwrap(), super::free_port(), "", &["native-histograms", "exemplar-storage"])
    }

    /// Starts with `extra` in its configuration and these `--enable-feature`s.
    pub fn start_featuring(data: tempfile::TempDir, port: u16, extra: &str, features: &[&str]) -> Prometheus {
        let config = data.path().join("prometheus.yml");
        // No out-of-order window, as Mimir by default: a sample older than its series' newest is
        // refused, so a writer that reorders one series' samples shows it.
        let base = "global:\n  scrape_interval: 15s\n";
        std::fs::write(&config, format!("{base}{}", extra.replace("$PORT", &port.to_string()))).unwrap();
        let mut child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.path().join("tsdb").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--web.enable-remote-write-receiver")
            .args((!features.is_empty()).then(|| format!("--enable-feature={}", features.join(","))))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("`prometheus` must be installed: apt-get install -y prometheus (.ci/run does this)");
        let stderr = child.stderr.take().unwrap();
        let (tx, log_lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut p = Prometheus { child, port, data, log_lines };
        p.wait_for_log("Server is ready to receive web requests", Duration::from_secs(60));
        p
    }

    /// Blocks until Prometheus logs a line containing `needle`.
    pub fn wait_for_log(&mut self, needle: &str, limit: Duration) {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.log_lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return,
                Ok(_) => {}
                Err(e) => panic!("prometheus did not log `{needle}` ({e:?})"),
            }
        }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops the process as a pod is stopped (SIGTERM, then waits), keeping the data folder.
    pub fn stop_gracefully(mut self) -> (tempfile::TempDir, u16) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.child.wait();
        let data = std::mem::replace(&mut self.data, tempfile::tempdir().unwrap());
        (data, self.port)
    }

    /// Stops the process, keeping the data folder for a restart.
    pub fn stop(mut self) -> (tempfile::TempDir, u16) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let data = std::mem::replace(&mut self.data, tempfile::tempdir().unwrap());
        (data, self.port)
    }

    /// Runs an instant PromQL query and returns the parsed JSON.
    pub fn query(&self, promql: &str) -> serde_json::Value {
        let q: String = form_urlencoded::Serializer::new(String::new()).append_pair("query", promql).finish();
        let out = Command::new("curl").args(["-fsS", &format!("{}/api/v1/query?{q}", self.base())]).output().expect("curl runs");
        assert!(out.status.success(), "query {promql} failed: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
