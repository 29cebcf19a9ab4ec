//! Starts Debian's `prometheus` on a free loopback port with a temporary data folder, waits for
//! the log line that says it is ready (no sleeps), and stops it when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The port to ask for when any free one will do.
pub const FREE_PORT: u16 = 0;

pub struct Prometheus {
    child: Child,
    pub port: u16,
    pub data: tempfile::TempDir,
    log_lines: mpsc::Receiver<String>,
}

impl Prometheus {
    pub fn start() -> Prometheus {
        Self::start_in(tempfile::tempdir().unwrap(), FREE_PORT)
    }

    /// Starts on a given data folder and port (used to restart the same server; `FREE_PORT`
    /// for any free one).
    pub fn start_in(data: tempfile::TempDir, port: u16) -> Prometheus {
        Self::start_with(data, port, "")
    }

    /// Starts with `extra` appended to its configuration (e.g. a `remote_write` section and a
    /// scrape of itself, `$PORT` standing for its own port).
    pub fn start_with(data: tempfile::TempDir, port: u16, extra: &str) -> Prometheus {
        Self::start_featuring(data, port, extra, &[])
    }

    /// Native histograms and exemplar storage on (`--enable-feature=native-histograms,exemplar-storage`).
    pub fn start_native() -> Prometheus {
        Self::start_featuring(tempfile::tempdir().unwrap(), FREE_PORT, "", &["native-histograms", "exemplar-storage"])
    }

    /// Starts with `extra` in its configuration and these `--enable-feature`s. With `FREE_PORT` a
    /// free port is picked, and picked anew when another process took it between the pick and
    /// Prometheus's bind (a test's outgoing connection can be given that port meanwhile).
    pub fn start_featuring(mut data: tempfile::TempDir, port: u16, extra: &str, features: &[&str]) -> Prometheus {
        for _ in 0..5 {
            let chosen = if port == FREE_PORT { super::free_port() } else { port };
            match Self::launch(data, chosen, extra, features) {
                Ok(p) => return p,
                Err((back, log)) if port == FREE_PORT && log.iter().any(|l| l.contains("address already in use")) => data = back,
                Err((_, log)) => panic!("prometheus on port {chosen} did not become ready:\n{}", log.join("\n")),
            }
        }
        panic!("prometheus found no free port in 5 tries");
    }

    /// One start: ready, or the data folder back with what it logged before it gave up.
    fn launch(data: tempfile::TempDir, port: u16, extra: &str, features: &[&str]) -> Result<Prometheus, (tempfile::TempDir, Vec<String>)> {
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
        match p.wait_for_log("Server is ready to receive web requests", Duration::from_secs(60)) {
            Ok(()) => Ok(p),
            Err(log) => {
                let _ = p.child.kill();
                let _ = p.child.wait();
                let data = std::mem::replace(&mut p.data, tempfile::tempdir().unwrap());
                Err((data, log))
            }
        }
    }

    /// Blocks until Prometheus logs a line containing `needle`; else what it logged meanwhile.
    fn wait_for_log(&mut self, needle: &str, limit: Duration) -> Result<(), Vec<String>> {
        let deadline = std::time::Instant::now() + limit;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.log_lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return Ok(()),
                Ok(line) => seen.push(line),
                Err(e) => {
                    seen.push(format!("(no `{needle}`: {e:?})"));
                    return Err(seen);
                }
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
