//! `faultline serve [STORE]`: browse a store's runs in a browser, served
//! read-only from 127.0.0.1:8080 by default (see [`crate::report::serve`]).

use crate::cli::ServeArgs;
use crate::exit::{bad_input, Exit};
use crate::report::serve::Server;

/// Runs `faultline serve` until interrupted.
pub fn run(args: &ServeArgs) -> Result<i32, Exit> {
    if !args.store.is_dir() {
        return Err(bad_input(format!(
            "{}: no such store directory (run `faultline test` first, or name one)",
            args.store.display()
        )));
    }
    let server = Server::bind(&args.store, &args.bind)
        .map_err(|e| bad_input(format!("--bind {}: {e}", args.bind)))?;
    let addr = server.local_addr().map_err(|e| Exit::Internal(e.into()))?;
    crate::say!(
        "serving {} at http://{addr}/ (read-only; Ctrl-C stops)",
        args.store.display()
    );
    server.run().map_err(|e| Exit::Internal(e.into()))?;
    Ok(0)
}
