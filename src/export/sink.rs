//! Where an export goes: a port for writing whole objects (each write atomic: a reader sees the
//! old object or the new one, never a part), with a local-folder adapter here and an S3 adapter
//! in [`super::s3`].

use std::future::Future;
use std::path::{Path, PathBuf};

use super::ExportError;

pub trait ObjectSink: Send + Sync {
    /// Writes (or replaces) `key` with `body`, atomically.
    fn put(&self, key: &str, body: Vec<u8>)
    -> impl Future<Output = Result<(), ExportError>> + Send;

    /// Removes `key`; a missing key is no error.
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), ExportError>> + Send;

    /// How a reader names `key` (`s3://bucket/prefix/key`, or an absolute path); with `""`, the
    /// destination itself.
    fn location(&self, key: &str) -> String;
}

/// An export's destination as given on the command line or in `EXPORT_TO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// `s3://bucket[/prefix]`; the prefix, when given, ends in `/`.
    S3 {
        bucket: String,
        prefix: String,
    },
    Dir(PathBuf),
}

impl Destination {
    pub fn parse(raw: &str) -> Result<Self, ExportError> {
        let Some(rest) = raw.strip_prefix("s3://") else {
            if raw.trim().is_empty() {
                return Err(ExportError::Destination("an empty destination".into()));
            }
            return Ok(Destination::Dir(PathBuf::from(raw)));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(ExportError::Destination(format!("{raw}: no bucket")));
        }
        let prefix = prefix.trim_matches('/');
        Ok(Destination::S3 {
            bucket: bucket.to_owned(),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
        })
    }
}

/// A local folder: each object a file, written beside its place and renamed into it.
#[derive(Debug, Clone)]
pub struct LocalDir {
    root: PathBuf,
}

impl LocalDir {
    pub fn new(root: impl AsRef<Path>) -> Result<Self, ExportError> {
        let root = root.as_ref();
        std::fs::create_dir_all(root).map_err(|e| io(root, &e))?;
        let root = std::fs::canonicalize(root).map_err(|e| io(root, &e))?;
        Ok(LocalDir { root })
    }
}

fn io(path: &Path, e: &std::io::Error) -> ExportError {
    ExportError::Sink {
        message: format!("{}: {e}", path.display()),
        retryable: false,
    }
}

impl ObjectSink for LocalDir {
    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), ExportError> {
        let path = self.root.join(key);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, &e))?;
        }
        let partial = path.with_extension(format!("partial-{}", std::process::id()));
        std::fs::write(&partial, body).map_err(|e| io(&partial, &e))?;
        std::fs::rename(&partial, &path).map_err(|e| io(&path, &e))
    }

    async fn delete(&self, key: &str) -> Result<(), ExportError> {
        let path = self.root.join(key);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(&path, &e)),
            _ => Ok(()),
        }
    }

    fn location(&self, key: &str) -> String {
        self.root.join(key).display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_are_s3_urls_or_folders() {
        assert_eq!(
            Destination::parse("s3://b/some/prefix/").unwrap(),
            Destination::S3 {
                bucket: "b".into(),
                prefix: "some/prefix/".into()
            }
        );
        assert_eq!(
            Destination::parse("s3://b").unwrap(),
            Destination::S3 {
                bucket: "b".into(),
                prefix: String::new()
            }
        );
        assert!(Destination::parse("s3:///x").is_err());
        assert!(Destination::parse("").is_err());
        assert_eq!(
            Destination::parse("out").unwrap(),
            Destination::Dir("out".into())
        );
    }

    #[tokio::test]
    async fn a_folder_holds_each_object_whole_and_forgets_a_missing_one_quietly() {
        let dir = tempfile::tempdir().unwrap();
        let sink = LocalDir::new(dir.path().join("export")).unwrap();
        sink.put("a/b/part.parquet", b"one".to_vec()).await.unwrap();
        sink.put("a/b/part.parquet", b"two".to_vec()).await.unwrap();
        let path = sink.location("a/b/part.parquet");
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(
            std::fs::read_dir(dir.path().join("export/a/b"))
                .unwrap()
                .count(),
            1
        );
        sink.delete("a/b/part.parquet").await.unwrap();
        sink.delete("a/b/part.parquet").await.unwrap();
        assert!(!Path::new(&path).exists());
    }
}
