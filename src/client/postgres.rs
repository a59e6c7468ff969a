//! A native PostgreSQL client for Elle's transactional workloads
//! (`tokio-postgres`). List-append keeps each key's list as comma-separated
//! text (`lists(k, v)`), appended by upsert; rw-register keeps integers
//! (`registers(k, v)`). Each transaction runs at the spec's isolation
//! level. A serialization failure or deadlock (SQLSTATE 40001, 40P01) or
//! any error before COMMIT is `fail` (the transaction rolled back); a lost
//! connection or timeout during COMMIT is `info`.

use super::txn::{self, micro_op, parse_list, TxnError};
use super::{Client, ClientConfig, Context, Kind, OpenCtx, Options, Reply, Request};
use crate::control::BoxFuture;
use serde_json::{json, Value};
use std::sync::Arc;
use tokio_postgres::NoTls;

/// Registration.
pub const KIND: Kind = Kind {
    name: "postgres",
    configure,
};

/// A validated PostgreSQL client: options `port` (default 5432) and
/// `isolation` (`serializable`, the default, `repeatable-read` or
/// `read-committed`).
#[derive(Debug)]
pub struct PgConfig {
    /// Client port.
    pub port: u16,
    /// The isolation level, as SQL spells it.
    pub isolation: &'static str,
    /// List-append (lists) or rw-register (registers).
    pub lists: bool,
}

fn configure(o: &mut Options<'_>, ctx: &Context) -> Arc<dyn ClientConfig> {
    let port = o.port("port", 5432);
    let (isolation, lists) = txn::configure(o, ctx, "postgres", 3);
    Arc::new(PgConfig {
        port,
        isolation,
        lists,
    })
}

impl ClientConfig for PgConfig {
    fn describe(&self) -> String {
        format!("postgres on port {}, {}", self.port, self.isolation)
    }

    fn open(&self, ctx: &OpenCtx<'_>) -> Box<dyn Client> {
        Box::new(PgClient::new(
            &ctx.node.addr,
            self.port,
            self.isolation,
            self.lists,
        ))
    }
}

/// One worker's connection.
pub struct PgClient {
    conn_str: String,
    isolation: &'static str,
    lists: bool,
    client: Option<tokio_postgres::Client>,
}

impl PgClient {
    /// A client for the server at `host:port`, running transactions at
    /// `isolation` (`serializable`, `repeatable read`, `read committed`),
    /// on lists (list-append) or registers (rw-register).
    pub fn new(host: &str, port: u16, isolation: &'static str, lists: bool) -> PgClient {
        PgClient {
            conn_str: format!(
                "host={host} port={port} user=postgres dbname=postgres connect_timeout=2"
            ),
            isolation,
            lists,
            client: None,
        }
    }

    async fn connect(&mut self) -> Result<&tokio_postgres::Client, String> {
        if self.client.as_ref().is_none_or(|c| c.is_closed()) {
            let (client, connection) = tokio_postgres::connect(&self.conn_str, NoTls)
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            self.client = Some(client);
        }
        self.client
            .as_ref()
            .ok_or_else(|| "not connected".to_string())
    }

    async fn txn(&mut self, mops: &[Value]) -> Result<Value, TxnError> {
        let (isolation, lists) = (self.isolation, self.lists);
        let c = self.connect().await.map_err(|error| TxnError {
            maybe_committed: false,
            broken: true,
            error,
        })?;
        // An error without SQLSTATE is a broken connection.
        let early = |e: tokio_postgres::Error| TxnError {
            maybe_committed: false,
            broken: e.code().is_none(),
            error: describe(&e),
        };
        c.batch_execute(&format!("BEGIN ISOLATION LEVEL {isolation}"))
            .await
            .map_err(early)?;
        let mut out = Vec::with_capacity(mops.len());
        for m in mops {
            // Checked before BEGIN (see `invoke`): these are known shapes.
            let (f, k, v) = micro_op(m).map_err(|error| TxnError {
                maybe_committed: false,
                broken: false,
                error,
            })?;
            let result = match f {
                "append" => {
                    c.execute(
                        "INSERT INTO lists (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = lists.v || ',' || $2",
                        &[&k, &v.to_string()],
                    )
                    .await
                    .map(|_| m.clone())
                }
                "w" => {
                    c.execute("INSERT INTO registers (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = $2", &[&k, &v])
                        .await
                        .map(|_| m.clone())
                }
                _ if lists => c
                    .query_opt("SELECT v FROM lists WHERE k = $1", &[&k])
                    .await
                    .map(|row| {
                        let list: Vec<i64> = row
                            .map(|r| r.get::<_, String>(0))
                            .map(|s| parse_list(&s))
                            .unwrap_or_default();
                        json!(["r", k, list])
                    }),
                _ => c
                    .query_opt("SELECT v FROM registers WHERE k = $1", &[&k])
                    .await
                    .map(|row| json!(["r", k, row.and_then(|r| r.get::<_, Option<i64>>(0))])),
            };
            match result {
                Ok(v) => out.push(v),
                Err(e) => {
                    let _ = c.batch_execute("ROLLBACK").await;
                    return Err(early(e));
                }
            }
        }
        match c.batch_execute("COMMIT").await {
            Ok(()) => Ok(Value::Array(out)),
            Err(e) if e.code().is_some() => Err(early(e)),
            // No SQLSTATE: the connection broke, and COMMIT may have happened.
            Err(e) => Err(TxnError {
                maybe_committed: true,
                broken: true,
                error: describe(&e),
            }),
        }
    }
}

fn describe(e: &tokio_postgres::Error) -> String {
    match (e.code(), e.as_db_error()) {
        (Some(code), Some(db)) => format!("{} (SQLSTATE {})", db.message(), code.code()),
        _ => e.to_string(),
    }
}

impl Client for PgClient {
    /// Creates the tables (idempotent).
    fn setup(&mut self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            let c = self.connect().await?;
            c.batch_execute(
                "CREATE TABLE IF NOT EXISTS lists (k BIGINT PRIMARY KEY, v TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS registers (k BIGINT PRIMARY KEY, v BIGINT);",
            )
            .await
            .map_err(|e| e.to_string())
        })
    }

    fn invoke<'a>(&'a mut self, req: &'a Request) -> BoxFuture<'a, Reply> {
        Box::pin(async move {
            let mops = match txn::mops(req, "postgres") {
                Ok(m) => m,
                Err(r) => return r,
            };
            let outcome = self.txn(mops).await;
            if outcome.as_ref().is_err_and(|e| e.broken) {
                self.client = None;
            }
            txn::reply(req, outcome)
        })
    }

    /// A connection whose COMMIT may or may not have happened, or that
    /// timed out mid-transaction, is not used again.
    fn reset(&mut self) {
        self.client = None;
    }

    fn close(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.client = None;
        })
    }
}
