//! Errors of this crate: concrete, with the position or op they concern.

use std::fmt;
use std::path::PathBuf;

/// A history could not be read: the file, line and column (1-based) and
/// what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadError {
    /// File being read (`-` or `<memory>` when not a file).
    pub path: PathBuf,
    /// 1-based line; 0 when the error is not tied to a line (I/O).
    pub line: usize,
    /// 1-based column in characters; 0 when unknown.
    pub column: usize,
    /// What went wrong, phrased as what was expected.
    pub message: String,
}

impl ReadError {
    /// An error at `line:column` of `path`.
    pub fn at(
        path: impl Into<PathBuf>,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Self {
        ReadError {
            path: path.into(),
            line,
            column,
            message: message.into(),
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                self.line,
                self.column,
                self.message
            )
        }
    }
}

impl std::error::Error for ReadError {}

/// A history is well-formed line by line but breaks Jepsen's op semantics
/// (a completion with no invocation, a process invoking twice, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HistoryError {
    /// Position of the offending op in the history.
    pub index: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "op {}: {}", self.index, self.message)
    }
}

impl std::error::Error for HistoryError {}

/// An op's value does not have the shape a model needs (a `cas` whose value
/// is not `[old, new]`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModelError {
    /// Position of the offending op in the history.
    pub index: usize,
    /// What the model expected.
    pub message: String,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "op {}: {}", self.index, self.message)
    }
}

impl std::error::Error for ModelError {}

/// A history that cannot be checked: it breaks op semantics or does not
/// fit the model. Both are bad input (exit 254), not a verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckError {
    /// Invocations and completions do not pair up.
    History(HistoryError),
    /// An op does not fit the model.
    Model(ModelError),
}

impl CheckError {
    /// Position of the offending op.
    pub fn index(&self) -> usize {
        match self {
            CheckError::History(e) => e.index,
            CheckError::Model(e) => e.index,
        }
    }

    /// The message without the position.
    pub fn message(&self) -> &str {
        match self {
            CheckError::History(e) => &e.message,
            CheckError::Model(e) => &e.message,
        }
    }
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::History(e) => e.fmt(f),
            CheckError::Model(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for CheckError {}

impl From<HistoryError> for CheckError {
    fn from(e: HistoryError) -> Self {
        CheckError::History(e)
    }
}

impl From<ModelError> for CheckError {
    fn from(e: ModelError) -> Self {
        CheckError::Model(e)
    }
}
