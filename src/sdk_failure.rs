//! A failed AWS SDK call as one line a person can read. The SDK's own `Display` of a timeout or
//! connection failure ends in the `Debug` form of its innards; operators and logs get what
//! happened and its root cause instead.

use std::error::Error;

use aws_smithy_runtime_api::client::result::SdkError;

/// What went wrong with a call that got no service answer: a timeout, a connection failure,
/// an unreadable response. Service errors are classified by their callers, by code.
pub fn describe<E: Error + 'static, R: std::fmt::Debug + 'static>(err: &SdkError<E, R>) -> String {
    match err {
        SdkError::TimeoutError(_) => format!("no answer in time ({})", root_cause(err)),
        SdkError::DispatchFailure(d) if d.is_timeout() => {
            format!("connection timed out ({})", root_cause(err))
        }
        SdkError::DispatchFailure(d) if d.is_io() => {
            format!("cannot connect ({})", root_cause(err))
        }
        SdkError::DispatchFailure(_) => format!("request not sent ({})", root_cause(err)),
        SdkError::ResponseError(_) => format!("unreadable response ({})", root_cause(err)),
        SdkError::ConstructionFailure(_) => format!("request not built ({})", root_cause(err)),
        _ => root_cause(err),
    }
}

/// The innermost error's message: the one that names the cause ("Connection refused (os error
/// 111)", "operation timeout ... occurred after 3s", "no credentials in the environment").
fn root_cause(err: &(dyn Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_runtime_api::http::Response;

    #[derive(Debug, thiserror::Error)]
    #[error("operation timeout (all attempts including retries) occurred after 3s")]
    struct Inner;

    #[test]
    fn a_timeout_is_one_line_without_debug_text() {
        let err: SdkError<std::io::Error, Response> = SdkError::timeout_error(Inner);
        let text = describe(&err);
        assert_eq!(
            text,
            "no answer in time (operation timeout (all attempts including retries) occurred after 3s)"
        );
        assert!(!text.contains('{'), "{text}");
    }

    #[test]
    fn a_refused_connection_names_the_os_error() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let err: SdkError<std::io::Error, Response> =
            SdkError::dispatch_failure(ConnectorError::io(Box::new(io)));
        let text = describe(&err);
        assert!(text.starts_with("cannot connect ("), "{text}");
        assert!(text.to_lowercase().contains("refused"), "{text}");
    }
}
