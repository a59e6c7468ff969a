//! `faultline disk mount|ctl|corrupt` (hidden): the fault filesystem's
//! helper on a node. `mount` runs the layer in the foreground (the
//! controller starts it detached, one per directory in `db.disk.dirs`);
//! `ctl` sends it one command over its control socket and prints the JSON
//! reply, failing when the layer reports an error; `corrupt` applies a
//! corruption fault to the files under a directory.

use crate::cli::DiskCmd;
use crate::exit::{bad_input, Exit};
use faultline_disk::{control, corrupt, MountSpec};
use std::time::Duration;

/// How long a control command may take (a checkpoint of a large cache, or
/// a syncfs of a busy mount, may take a while).
const CTL_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs a `faultline disk` subcommand.
pub fn run(cmd: DiskCmd) -> Result<i32, Exit> {
    match cmd {
        DiskCmd::Mount {
            mount,
            backing,
            socket,
            within,
        } => {
            let spec = MountSpec {
                mount,
                backing,
                socket,
                within,
            };
            spec.check().map_err(bad_input)?;
            faultline_disk::serve(&spec, || {
                eprintln!("faultline disk: mounted {}", spec.mount.display())
            })
            .map_err(|e| Exit::Internal(anyhow::anyhow!("faultline disk mount: {e}")))?;
            Ok(0)
        }
        DiskCmd::Corrupt {
            root,
            files,
            seed,
            fault,
        } => {
            let f: corrupt::Fault = fault.join(" ").parse().map_err(bad_input)?;
            let done = corrupt::apply(&root, &files, &f, seed).map_err(|e| {
                Exit::Internal(anyhow::anyhow!(
                    "faultline disk corrupt {}: {e}",
                    root.display()
                ))
            })?;
            for c in done {
                println!("{}", c.to_json());
            }
            Ok(0)
        }
        DiskCmd::Ctl { socket, command } => {
            let reply = control::request(&socket, &command.join(" "), CTL_TIMEOUT)
                .map_err(|e| Exit::Internal(anyhow::anyhow!("faultline disk ctl: {e}")))?;
            println!("{reply}");
            if reply.starts_with("{\"ok\":true") {
                Ok(0)
            } else {
                Err(Exit::Internal(anyhow::anyhow!(
                    "faultline disk ctl {}: {reply}",
                    command.join(" ")
                )))
            }
        }
    }
}
