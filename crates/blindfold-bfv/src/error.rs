//! [`BfvError`]: why a BFV key, ciphertext, program or evaluation was refused.

/// Errors of this crate. Each names the problem; the cause, when there is
/// one, is the [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
pub enum BfvError {
    /// A parameter-set name or id this build does not know.
    #[error("unknown BFV parameter set {0:?}")]
    UnknownParamSet(String),
    /// Bytes over their limit, refused before decoding.
    #[error("{what} is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// What was being read.
        what: &'static str,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Bytes that do not decode as what they claim to be.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being read.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// fhe.rs refused an operation or a decoding.
    #[error("fhe.rs failed to {what}")]
    Fhe {
        /// What was being done.
        what: &'static str,
        /// fhe.rs's error.
        #[source]
        source: fhe::Error,
    },
    /// A program, shape or input that does not fit (names the problem).
    #[error("{0}")]
    Invalid(String),
}

impl BfvError {
    pub(crate) fn malformed(what: &'static str, reason: impl Into<String>) -> Self {
        BfvError::Malformed {
            what,
            reason: reason.into(),
        }
    }

    pub(crate) fn fhe(what: &'static str) -> impl FnOnce(fhe::Error) -> Self {
        move |source| BfvError::Fhe { what, source }
    }
}

impl From<fhe_math::Error> for BfvError {
    fn from(e: fhe_math::Error) -> Self {
        BfvError::Fhe {
            what: "compute on polynomials",
            source: fhe::Error::MathError(e),
        }
    }
}

/// `Result` with [`BfvError`].
pub type Result<T> = std::result::Result<T, BfvError>;
