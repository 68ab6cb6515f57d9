//! The export's S3 adapter: one `PutObject` per object (atomic: readers see the old object or
//! the new one), `DeleteObject` for superseded snapshots.

use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;

use super::ExportError;
use super::sink::ObjectSink;

#[derive(Debug, Clone)]
pub struct S3Sink {
    client: Client,
    bucket: String,
    /// Empty, or ending in `/`.
    prefix: String,
}

impl S3Sink {
    pub fn new(client: Client, bucket: impl Into<String>, prefix: impl Into<String>) -> Self {
        S3Sink {
            client,
            bucket: bucket.into(),
            prefix: prefix.into(),
        }
    }
}

fn classify<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    err: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> ExportError {
    let retryable = match &err {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or_default();
            service.raw().status().as_u16() >= 500
                || matches!(code, "SlowDown" | "RequestTimeout" | "InternalError")
        }
        // Timeouts, connection failures: the service may be back soon.
        _ => true,
    };
    ExportError::Sink {
        message: aws_sdk_s3::error::DisplayErrorContext(&err).to_string(),
        retryable,
    }
}

impl ObjectSink for S3Sink {
    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), ExportError> {
        let content_type = if key.ends_with(".parquet") {
            "application/vnd.apache.parquet"
        } else {
            "text/plain"
        };
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(format!("{}{key}", self.prefix))
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map(drop)
            .map_err(classify)
    }

    async fn delete(&self, key: &str) -> Result<(), ExportError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(format!("{}{key}", self.prefix))
            .send()
            .await
            .map(drop)
            .map_err(classify)
    }

    fn location(&self, key: &str) -> String {
        format!("s3://{}/{}{key}", self.bucket, self.prefix)
    }
}

/// The S3 client, from the shared AWS config, with a per-operation time budget. A custom
/// endpoint (`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`: MinIO, moto, LocalStack) is addressed
/// path-style, as such servers expect.
pub fn client(sdk: &aws_config::SdkConfig) -> Client {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .operation_timeout(Duration::from_secs(60))
        .connect_timeout(Duration::from_secs(2))
        .build();
    let custom_endpoint = sdk.endpoint_url().is_some()
        || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some_and(|v| !v.is_empty());
    let config = aws_sdk_s3::config::Builder::from(sdk)
        .timeout_config(timeouts)
        .force_path_style(custom_endpoint)
        .build();
    Client::from_conf(config)
}
