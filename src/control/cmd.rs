//! A command to run on a node, and what came back.
//!
//! [`Cmd`] is built once and rendered to one POSIX shell line
//! ([`Cmd::render`]) that every backend runs with `sh -c`, so SSH, docker
//! and local nodes see exactly the same command.

use std::time::Duration;

/// What to run: an argv (each word quoted) or a shell script as is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Program {
    /// Program and arguments; each is quoted for the shell.
    Argv(Vec<String>),
    /// A shell script, passed to `sh -c` unchanged.
    Shell(String),
}

/// A command with its stdin, environment, working directory, privilege and
/// time limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cmd {
    /// What to run.
    pub program: Program,
    /// Bytes written to the command's stdin (then closed).
    pub stdin: Option<Vec<u8>>,
    /// Environment variables set for the command.
    pub env: Vec<(String, String)>,
    /// Working directory.
    pub cwd: Option<String>,
    /// Run through `sudo -n` (skipped when the login user is root).
    pub sudo: bool,
    /// Kill the command (and report a timeout) after this long.
    pub timeout: Option<Duration>,
}

impl Cmd {
    /// A command from program and arguments.
    pub fn argv<I, S>(argv: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Cmd::new(Program::Argv(argv.into_iter().map(Into::into).collect()))
    }

    /// A shell script.
    pub fn shell(script: impl Into<String>) -> Cmd {
        Cmd::new(Program::Shell(script.into()))
    }

    fn new(program: Program) -> Cmd {
        Cmd {
            program,
            stdin: None,
            env: Vec::new(),
            cwd: None,
            sudo: false,
            timeout: None,
        }
    }

    /// Feeds `bytes` to stdin.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Cmd {
        self.stdin = Some(bytes.into());
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Cmd {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Runs in directory `dir`.
    pub fn cwd(mut self, dir: impl Into<String>) -> Cmd {
        self.cwd = Some(dir.into());
        self
    }

    /// Runs with sudo.
    pub fn sudo(mut self, sudo: bool) -> Cmd {
        self.sudo = sudo;
        self
    }

    /// Gives up after `limit`.
    pub fn timeout(mut self, limit: Duration) -> Cmd {
        self.timeout = Some(limit);
        self
    }

    /// The script part (program, env and cwd), as a person would type it.
    pub fn script(&self) -> String {
        let mut s = String::new();
        if let Some(dir) = &self.cwd {
            s.push_str(&format!("cd {} && ", quote(dir)));
        }
        for (k, v) in &self.env {
            s.push_str(&format!("export {k}={}; ", quote(v)));
        }
        match &self.program {
            Program::Argv(argv) => {
                s.push_str(&argv.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" "))
            }
            Program::Shell(script) => s.push_str(script),
        }
        s
    }

    /// The full line a backend runs: the script under `sh -c`, wrapped in
    /// `timeout` and `sudo` as asked. `root` says whether the login user is
    /// already root (then sudo is skipped).
    pub fn render(&self, root: bool) -> String {
        let mut line = format!("sh -c {}", quote(&self.script()));
        if let Some(t) = self.timeout {
            // TERM at the limit, KILL one second later; exit status 124.
            line = format!("timeout -k 1 {:.3} {line}", t.as_secs_f64());
        }
        if self.sudo && !root {
            line = format!("sudo -n -- {line}");
        }
        line
    }
}

pub use faultline_nemesis::shell::quote;

/// What a finished command returned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    /// Exit status, or `None` if it was killed by a signal.
    pub status: Option<i32>,
    /// Bytes written to stdout.
    pub stdout: Vec<u8>,
    /// Bytes written to stderr.
    pub stderr: Vec<u8>,
}

impl Output {
    /// True for exit status 0.
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }

    /// stdout as text, trailing whitespace trimmed.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).trim_end().to_string()
    }

    /// stderr as text, trailing whitespace trimmed.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).trim_end().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_quoted_lines() {
        let c = Cmd::argv(["echo", "it's", "a b"])
            .env("X", "1 2")
            .cwd("/tmp/d ir");
        assert_eq!(
            c.script(),
            r#"cd '/tmp/d ir' && export X='1 2'; echo 'it'\''s' 'a b'"#
        );
        let line = Cmd::shell("echo $HOME")
            .sudo(true)
            .timeout(Duration::from_millis(1500))
            .render(false);
        assert_eq!(line, "sudo -n -- timeout -k 1 1.500 sh -c 'echo $HOME'");
        assert_eq!(Cmd::shell("id").sudo(true).render(true), "sh -c id");
        assert_eq!(quote(""), "''");
    }
}
