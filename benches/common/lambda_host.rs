//! A local Lambda runtime API (enough for lambda_runtime: hands out queued events, collects the
//! answers) and helpers to run the release binaries against it. Shared by the benches
//! and the soak (`benches/peer_comparison.rs`, `examples/soak.rs`), which include it by path.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::support::cases_standin::read_request;
use crate::support::root;

#[derive(Default)]
pub struct Runtime {
    pub queue: VecDeque<(String, Value)>,
    pub responses: HashMap<String, Value>,
    pub first_next: Option<Instant>,
}

#[derive(Clone)]
pub struct RuntimeApi {
    pub port: u16,
    pub state: Arc<Mutex<Runtime>>,
    pub changed: Arc<Notify>,
}

impl RuntimeApi {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api = RuntimeApi {
            port: listener.local_addr().unwrap().port(),
            state: Default::default(),
            changed: Default::default(),
        };
        let server = api.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let conn = server.clone();
                tokio::spawn(async move { conn.serve(stream).await });
            }
        });
        api
    }

    pub async fn serve(&self, mut stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let mut buf = Vec::new();
        while let Some((method, path, body)) = read_request(&mut stream, &mut buf).await {
            if std::env::var_os("BENCH_DEBUG").is_some() {
                eprintln!("runtime api: {method} {path} ({} bytes)", body.len());
            }
            let (status, headers, body) = if path.ends_with("/invocation/next") {
                self.state
                    .lock()
                    .unwrap()
                    .first_next
                    .get_or_insert_with(Instant::now);
                self.changed.notify_waiters();
                let (id, payload) = loop {
                    let notified = self.changed.notified();
                    if let Some(next) = self.state.lock().unwrap().queue.pop_front() {
                        break next;
                    }
                    notified.await;
                };
                let deadline = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    + Duration::from_secs(60);
                let headers = format!(
                    "Lambda-Runtime-Aws-Request-Id: {id}\r\nLambda-Runtime-Deadline-Ms: {}\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-west-2:123456789012:function:bench\r\nLambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000\r\n",
                    deadline.as_millis()
                );
                (200, headers, payload.to_string())
            } else if method == "POST" && (path.ends_with("/response") || path.ends_with("/error"))
            {
                let id = path.split('/').nth_back(1).unwrap_or_default().to_owned();
                let answer = serde_json::from_slice(&body)
                    .unwrap_or(json!({"error": String::from_utf8_lossy(&body)}));
                self.state.lock().unwrap().responses.insert(id, answer);
                self.changed.notify_waiters();
                (202, String::new(), "{}".to_owned())
            } else {
                (404, String::new(), "{}".to_owned())
            };
            let response = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\n\r\n{body}",
                body.len()
            );
            if stream.write_all(response.as_bytes()).await.is_err() {
                return;
            }
        }
    }

    pub fn push(&self, id: String, payload: Value) {
        self.state.lock().unwrap().queue.push_back((id, payload));
        self.changed.notify_waiters();
    }

    pub async fn wait_for(&self, ids: &[String]) -> Vec<Value> {
        loop {
            let notified = self.changed.notified();
            {
                let state = self.state.lock().unwrap();
                if ids.iter().all(|id| state.responses.contains_key(id)) {
                    return ids.iter().map(|id| state.responses[id].clone()).collect();
                }
            }
            notified.await;
        }
    }

    pub async fn wait_first_next(&self) -> Instant {
        loop {
            let notified = self.changed.notified();
            if let Some(t) = self.state.lock().unwrap().first_next {
                return t;
            }
            notified.await;
        }
    }
}

pub fn lambda_env(cmd: &mut tokio::process::Command, api: &RuntimeApi) {
    cmd.env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{}", api.port))
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
        .env("AWS_REGION", "us-west-2")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .kill_on_drop(true);
}

pub fn release(name: &str) -> PathBuf {
    let path = root().join("target/release").join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/bench-peer",
        path.display()
    );
    path
}
