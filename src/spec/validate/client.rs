//! `client:`: `timeout` here; every other option is checked by the client
//! kind itself (`src/client/`).

use super::Problems;
use crate::spec::plan::WorkloadKind;
use crate::spec::Loaded;
use std::sync::Arc;
use std::time::Duration;

impl Loaded {
    /// `client:`: the op timeout, and the config its kind validated.
    pub(super) fn client(
        &self,
        workload: WorkloadKind,
        p: &mut Problems,
    ) -> (Arc<dyn crate::client::ClientConfig>, Duration) {
        let c = &self.spec.client;
        let timeout = p.duration("client.timeout", &c.timeout, Duration::from_secs(5), true);
        let ctx = crate::client::Context { workload };
        let config = match crate::client::configure(&c.kind, &c.options, &ctx) {
            Ok(config) => config,
            Err(errors) => {
                for e in errors {
                    p.key(&e.key, e.message);
                }
                Arc::new(crate::client::exec::ExecConfig {
                    command: String::new(),
                })
            }
        };
        (config, timeout)
    }
}
