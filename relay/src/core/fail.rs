//! Why something was not carried out: a refusal with a code (answered to the one who asked, if anyone did), or a
//! storage failure (fatal: the relay stops without acknowledging the batch).

use huddle_shared::ErrorCode;

use crate::storage::StorageError;

#[derive(Debug)]
pub enum Fail {
    Refuse { code: ErrorCode, message: Option<String>, retry_after_ms: Option<u64> },
    Storage(StorageError),
}

impl From<StorageError> for Fail {
    fn from(e: StorageError) -> Self {
        Self::Storage(e)
    }
}

/// A refusal with the code's standard sentence.
pub fn refuse(code: ErrorCode) -> Fail {
    Fail::Refuse { code, message: None, retry_after_ms: None }
}

/// A refusal with a sentence about this case.
pub fn refuse_with(code: ErrorCode, message: impl Into<String>) -> Fail {
    Fail::Refuse { code, message: Some(message.into()), retry_after_ms: None }
}

/// A rate limit: try again after `retry_after_ms`.
pub fn rate_limited(message: impl Into<String>, retry_after_ms: u64) -> Fail {
    Fail::Refuse { code: ErrorCode::RateLimited, message: Some(message.into()), retry_after_ms: Some(retry_after_ms) }
}

pub type Outcome<T = ()> = Result<T, Fail>;
