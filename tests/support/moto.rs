//! moto's S3 server (`moto_server`, from PyPI into the git-ignored `.venv/` by
//! `scripts/ensure-export-tools`), started on a free loopback port for one test and killed when
//! dropped; an S3 client for it; the venv's Python (DuckDB, pyarrow).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::root;

/// The venv's python, with moto, DuckDB and pyarrow installed.
pub fn python() -> PathBuf {
    let out = Command::new(root().join("scripts/ensure-export-tools"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run scripts/ensure-export-tools");
    assert!(
        out.status.success(),
        "installing the export test tools failed"
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

pub struct MotoS3 {
    child: Child,
    pub port: u16,
}

impl MotoS3 {
    pub fn start() -> Self {
        let python = python();
        let server = python.parent().unwrap().join("moto_server");
        let port = super::free_port();
        let child = Command::new(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let moto = MotoS3 { child, port };
        super::wait_for_port(port, "moto_server");
        moto
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// An S3 client for this server: test credentials, a region, path-style addressing.
    pub fn client(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "test", "test", None, None, "tests",
            ))
            .endpoint_url(self.endpoint())
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// Every object of `bucket` under `prefix`, copied below `dir` (keys less the prefix).
    pub async fn mirror(&self, bucket: &str, prefix: &str, dir: &Path) -> Vec<String> {
        let client = self.client();
        let mut keys = Vec::new();
        let mut pages = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for object in page.unwrap().contents() {
                keys.push(object.key().unwrap().to_owned());
            }
        }
        if dir.exists() {
            std::fs::remove_dir_all(dir).unwrap();
        }
        for key in &keys {
            let body = client
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .unwrap();
            let bytes = body.body.collect().await.unwrap().into_bytes();
            let path = dir.join(key.strip_prefix(prefix).unwrap());
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
        keys
    }
}

impl Drop for MotoS3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
