//! Clock faults. Local nodes: the DB runs under libfaketime with a
//! per-node offset file that these scripts rewrite — the host clock is
//! never touched. Real remote nodes: `date` through sudo with time sync
//! stopped, restored at teardown. Go programs and static binaries ignore
//! libfaketime; [`detect_script`] finds them so the fault is reported as
//! unsupported instead of silently doing nothing.

use crate::shell::quote;

/// Where clock faults act.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClockMode {
    /// libfaketime reads its offset from this file on every node.
    Faketime {
        /// The offset file (same path on every node).
        offset_file: String,
    },
    /// Set the system clock with `date` (real remote nodes only).
    SystemDate,
}

/// The libfaketime library on Debian.
pub const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// Environment that runs a program under libfaketime with `offset_file`.
pub fn faketime_env(offset_file: &str) -> Vec<(String, String)> {
    vec![
        ("LD_PRELOAD".into(), LIBFAKETIME.into()),
        ("FAKETIME_TIMESTAMP_FILE".into(), offset_file.into()),
        ("FAKETIME_NO_CACHE".into(), "1".into()),
    ]
}

fn offset(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "+" };
    format!("{sign}{}.{:03}s", ms.abs() / 1000, ms.abs() % 1000)
}

/// Shifts the node's clock by `delta_ms` (relative to now).
pub fn bump_script(mode: &ClockMode, delta_ms: i64) -> String {
    match mode {
        ClockMode::Faketime { offset_file } => {
            format!("echo '{}' > {}", offset(delta_ms), quote(offset_file))
        }
        ClockMode::SystemDate => format!(
            "(systemctl stop systemd-timesyncd chrony ntp 2>/dev/null || true); \
             date -s \"@$(( $(date +%s) + {} ))\" >/dev/null",
            delta_ms / 1000
        ),
    }
}

/// Pidfile of a running strobe loop.
fn strobe_pidfile(mode: &ClockMode) -> String {
    match mode {
        ClockMode::Faketime { offset_file } => format!("{offset_file}.strobe"),
        ClockMode::SystemDate => "/tmp/faultline-clock-strobe.pid".into(),
    }
}

/// Alternates the clock between +delta and 0 every `period_ms`, for
/// `duration_ms`, in the background on the node (bounded by construction).
pub fn strobe_script(mode: &ClockMode, delta_ms: i64, period_ms: u64, duration_ms: u64) -> String {
    let flips = (duration_ms / period_ms.max(1)).max(1);
    let (on, off) = (bump_script(mode, delta_ms), bump_script(mode, 0));
    let period = format!("{}.{:03}", period_ms / 1000, period_ms % 1000);
    format!(
        "nohup sh -c 'i=0; while [ $i -lt {flips} ]; do {on}; sleep {period}; {off}; sleep {period}; i=$((i+2)); done' \
         >/dev/null 2>&1 & echo $! > {pidfile}",
        on = on.replace('\'', "'\\''"),
        off = off.replace('\'', "'\\''"),
        pidfile = quote(&strobe_pidfile(mode)),
    )
}

/// Resets the clock; prints the previous offset if it was not zero.
pub fn reset_script(mode: &ClockMode) -> String {
    let stop_strobe = format!(
        "if [ -f {p} ]; then kill \"$(cat {p})\" 2>/dev/null; rm -f {p}; fi; ",
        p = quote(&strobe_pidfile(mode))
    );
    stop_strobe
        + &match mode {
        ClockMode::Faketime { offset_file } => format!(
            "if [ -f {f} ]; then old=$(cat {f}); \
             case \"$old\" in ''|'+0'|'+0.000s') ;; *) echo \"$old\";; esac; fi; echo '+0' > {f}",
            f = quote(offset_file)
        ),
        ClockMode::SystemDate => {
            "(systemctl start systemd-timesyncd 2>/dev/null || systemctl start chrony 2>/dev/null || \
             systemctl start ntp 2>/dev/null || true)"
                .to_string()
        }
        }
}

/// Prints `go` if `binary` is a Go program (has a `.go.buildinfo`
/// section), `static` if statically linked, else `dynamic`.
pub fn detect_script(binary: &str) -> String {
    let binary = quote(binary);
    format!(
        "b=$(command -v {binary} || echo {binary}); \
         if grep -qa '\\.go\\.buildinfo' \"$b\"; then echo go; \
         elif head -c 4096 \"$b\" | grep -qa 'ld-linux'; then echo dynamic; else echo static; fi"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_scripts() {
        assert_eq!(offset(5000), "+5.000s");
        assert_eq!(offset(-1250), "-1.250s");
        let m = ClockMode::Faketime {
            offset_file: "/d/ft".into(),
        };
        assert_eq!(bump_script(&m, 2000), "echo '+2.000s' > /d/ft");
        assert!(reset_script(&m).contains("echo '+0' > /d/ft"));
        assert!(strobe_script(&m, 100, 50, 1000).contains("while [ $i -lt 20 ]"));
        assert!(
            !bump_script(&m, 1).contains("date -s"),
            "local nodes never set the system clock"
        );
    }
}
