//! A real S3-compatible server on loopback for the tests: `s3s-fs` (crates.io), which keeps each
//! bucket as a folder of a temporary directory and checks SigV4 signatures against one key pair.
//! Buckets are seeded with the object layouts Tempo and Cortex write (`tests/fixtures/storage`).

use hyper_util::rt::{TokioExecutor, TokioIo};
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use std::path::Path;

pub const ACCESS_KEY: &str = "lgtm-test-access";
pub const SECRET_KEY: &str = "lgtm-test-secret-Zq8v";

pub struct S3Server {
    pub port: u16,
    pub root: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl S3Server {
    pub async fn start() -> S3Server {
        let root = tempfile::tempdir().unwrap();
        let fs = s3s_fs::FileSystem::new(root.path()).unwrap();
        let mut b = S3ServiceBuilder::new(fs);
        b.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = b.build().into_shared();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let svc = service.clone();
                tokio::spawn(async move {
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(socket), svc).await;
                });
            }
        });
        S3Server { port, root, task }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Writes `key` into `bucket` (a folder, as s3s-fs keeps it).
    pub fn put(&self, bucket: &str, key: &str, body: &[u8]) {
        let path = self.root.path().join(bucket).join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }

    /// Makes an empty bucket.
    pub fn bucket(&self, bucket: &str) {
        std::fs::create_dir_all(self.root.path().join(bucket)).unwrap();
    }

    /// Seeds `bucket` with every key of a fixture listing (`key size` a line) under `prefix`:
    /// each `meta.json` holds `meta` (a recorded one), other objects a few placeholder bytes.
    pub fn seed(&self, bucket: &str, listing: &Path, prefix: &str, meta: &[u8]) {
        self.bucket(bucket);
        for line in std::fs::read_to_string(listing).unwrap().lines().filter(|l| !l.trim().is_empty()) {
            let key = line.split_whitespace().next().unwrap();
            let body: &[u8] = if key.ends_with("/meta.json") { meta } else { b"placeholder" };
            self.put(bucket, &format!("{prefix}{key}"), body);
        }
    }
}

/// The `meta.json` that `tempo` or `cortex` wrote for a block (`storage/<target>/meta.json`).
pub fn recorded_meta(target: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(super::fixtures::dir("storage").join(target).join("meta.json")).unwrap()).unwrap()
}

impl S3Server {
    /// `bucket` seeded with the blocks Cortex wrote (`storage/cortex`), tenants at the root.
    pub fn seed_cortex(&self, bucket: &str) {
        let storage = super::fixtures::dir("storage");
        self.seed(bucket, &storage.join("cortex/bucket-listing.txt"), "", &std::fs::read(storage.join("cortex/meta.json")).unwrap());
    }

    /// `bucket` seeded with the blocks Tempo wrote for tenant `bench` (`storage/tempo`).
    pub fn seed_tempo(&self, bucket: &str) {
        let storage = super::fixtures::dir("storage");
        self.seed(bucket, &storage.join("tempo/bucket-listing-tenant-bench.txt"), "bench/", &std::fs::read(storage.join("tempo/meta.json")).unwrap());
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}
