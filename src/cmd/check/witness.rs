//! `faultline check --witness OUT.json`: the proof of a valid verdict.
//!
//! Before any checking, [`prepare`] refuses what cannot work (several input
//! files, a transactional checker, OUT being the history itself, OUT not
//! writable) with exit 254, and opens OUT once, without truncating it (so
//! a named pipe or `/dev/stdout` works too). After it, [`finish`] writes the
//! witness of a valid verdict through that handle, or says on stderr why
//! there is none and removes a stale OUT, so that a witness on disk always
//! belongs to the last check.

use super::FileResult;
use crate::cli::{CheckArgs, CheckerName};
use crate::exit::{self, Exit};
use faultline_checkers::Validity;
use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};

/// Where the witness goes, opened by [`prepare`].
pub(super) struct Target {
    path: PathBuf,
    file: fs::File,
}

/// Validates `--witness` with the other arguments and opens OUT once to
/// prove it writable (without truncating it). `None` without the flag.
pub(super) fn prepare(args: &CheckArgs) -> Result<Option<Target>, Exit> {
    let Some(path) = &args.witness else {
        return Ok(None);
    };
    let shown = path.display();
    if args.files.len() != 1 {
        return Err(exit::bad_input(format!(
            "--witness {shown}: a witness is written for one history file, but {} were given",
            args.files.len()
        )));
    }
    if !matches!(args.checker, CheckerName::Auto | CheckerName::Linearizable) {
        return Err(exit::bad_input(format!(
            "--witness {shown}: only the linearizable checker writes a witness"
        )));
    }
    if same_file(path, &args.files[0]) {
        return Err(exit::bad_input(format!(
            "--witness {shown}: that is the history being checked; name another file"
        )));
    }
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| exit::bad_input(format!("--witness {shown}: cannot write: {e}")))?;
    Ok(Some(Target {
        path: path.clone(),
        file,
    }))
}

/// True when both paths name one existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

/// Writes the witness of the one file's valid verdict to the target, or
/// says on stderr why there is none (and removes OUT when it is a regular
/// file).
pub(super) fn finish(
    target: Option<Target>,
    files: &[PathBuf],
    results: &[FileResult],
) -> Result<(), Exit> {
    let (Some(Target { path, file: out }), [file], [result]) = (target, files, results) else {
        return Ok(());
    };
    let (witness, why) = match result {
        FileResult::Checked { analysis, .. } => match (&analysis.witness, analysis.valid) {
            (Some(w), _) => (Some(w), ""),
            (None, Validity::Invalid) => (None, "the history is not linearizable"),
            (None, _) => (None, "the verdict is unknown"),
        },
        FileResult::Txn { .. } => (
            None,
            "it is a transactional history (a witness proves a linearizable verdict)",
        ),
        FileResult::Jepsen { .. } => (
            None,
            "its checker is not the linearizable one (a witness proves a linearizable verdict)",
        ),
        FileResult::BadInput(_) => (None, "the history could not be checked"),
        FileResult::Panicked(_) => (None, "the check panicked"),
    };
    let Some(witness) = witness else {
        drop(out);
        if fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
            let _ = fs::remove_file(&path);
        }
        eprintln!(
            "{}: no witness written to {}: {why}",
            file.display(),
            path.display()
        );
        return Ok(());
    };
    let regular = out.metadata().is_ok_and(|m| m.is_file());
    let written = if regular { out.set_len(0) } else { Ok(()) }
        .and_then(|()| witness.write_json(&file.to_string_lossy(), &out));
    if let Err(e) = written {
        drop(out);
        if regular {
            let _ = fs::remove_file(&path);
        }
        return Err(exit::bad_input(format!(
            "--witness {}: cannot write: {e}",
            path.display()
        )));
    }
    let ops: usize = witness.partitions.iter().map(|p| p.order.len()).sum();
    eprintln!(
        "{}: witness written to {} ({ops} ops in {} partition{})",
        file.display(),
        path.display(),
        witness.partitions.len(),
        if witness.partitions.len() == 1 {
            ""
        } else {
            "s"
        }
    );
    Ok(())
}
