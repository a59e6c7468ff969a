//! Exit codes and the error type that carries one.

/// Bad arguments or bad input (Jepsen's convention).
pub const BAD_INPUT: i32 = 254;
/// A bug or an environment failure in faultline itself.
pub const INTERNAL: i32 = 255;

/// A failed command: whose fault it was decides the exit code.
#[derive(Debug)]
pub enum Exit {
    /// The user's input is wrong: exit 254.
    BadInput(anyhow::Error),
    /// Something broke inside faultline: exit 255.
    Internal(anyhow::Error),
}

/// Shorthand for a bad-input error with a message.
pub fn bad_input(msg: impl std::fmt::Display) -> Exit {
    Exit::BadInput(anyhow::anyhow!("{msg}"))
}
