//! A native MariaDB / MySQL client (`mysql_async`) for Elle's transactional
//! workloads, the same tables and statements as the PostgreSQL client in
//! MySQL's dialect: list-append keeps each key's list as comma-separated
//! text (`lists(k, v)`, appended by `INSERT ... ON DUPLICATE KEY UPDATE`),
//! rw-register keeps integers (`registers(k, v)`). Each transaction runs at
//! the spec's isolation level.
//!
//! Deadlocks, lock wait timeouts and "record has changed" (1213, 1205,
//! 1020), and any other error before COMMIT, are `fail`: the transaction
//! rolled back. An error reply to COMMIT is `fail`; a connection lost
//! during COMMIT is `info`.
//!
//! Options: `port` (default 3306), `isolation` (`serializable`, the
//! default, `repeatable-read`, `read-committed`, `read-uncommitted`),
//! `user` (default `root`), `password` (default none), `database` (default
//! `faultline`, created by `setup` if missing).

use super::txn::{self, micro_op, parse_list, TxnError};
use super::{Client, ClientConfig, Context, Kind, OpenCtx, Options, Reply, Request};
use crate::control::BoxFuture;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder};
use serde_json::{json, Value};
use std::sync::Arc;

/// Registration.
pub const KIND: Kind = Kind {
    name: "mariadb",
    configure,
};

/// A validated MariaDB client.
#[derive(Debug)]
pub struct MariaConfig {
    /// Client port.
    pub port: u16,
    /// The isolation level, as SQL spells it.
    pub isolation: &'static str,
    /// User name.
    pub user: String,
    /// Password, if any.
    pub password: Option<String>,
    /// Database.
    pub database: String,
    /// List-append (lists) or rw-register (registers).
    pub lists: bool,
}

fn configure(o: &mut Options<'_>, ctx: &Context) -> Arc<dyn ClientConfig> {
    let port = o.port("port", 3306);
    let (isolation, lists) = txn::configure(o, ctx, "mariadb", 4);
    let user = o.string("user").unwrap_or_else(|| "root".into());
    let password = o.string("password");
    let database = o.string("database").unwrap_or_else(|| "faultline".into());
    if database.is_empty()
        || !database
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        o.error(
            "database",
            format!("expected letters, digits and '_', found {database:?}"),
        );
    }
    Arc::new(MariaConfig {
        port,
        isolation,
        user,
        password,
        database,
        lists,
    })
}

impl ClientConfig for MariaConfig {
    fn describe(&self) -> String {
        format!(
            "mariadb on port {}, {}, database {}",
            self.port, self.isolation, self.database
        )
    }

    fn open(&self, ctx: &OpenCtx<'_>) -> Box<dyn Client> {
        let opts = OptsBuilder::default()
            .ip_or_hostname(ctx.node.addr.clone())
            .tcp_port(self.port)
            .user(Some(self.user.clone()))
            .pass(self.password.clone())
            .prefer_socket(false);
        Box::new(MariaClient {
            opts: opts.into(),
            database: self.database.clone(),
            isolation: self.isolation,
            lists: self.lists,
            conn: None,
        })
    }
}

/// One worker's connection.
pub struct MariaClient {
    opts: Opts,
    database: String,
    isolation: &'static str,
    lists: bool,
    conn: Option<Conn>,
}

/// An error before COMMIT: the transaction did not happen.
fn early(e: mysql_async::Error) -> TxnError {
    TxnError {
        maybe_committed: false,
        broken: !matches!(e, mysql_async::Error::Server(_)),
        error: describe(&e),
    }
}

/// A server error with its code (`1213 (40001): Deadlock found ...`).
fn describe(e: &mysql_async::Error) -> String {
    match e {
        mysql_async::Error::Server(s) => format!("{} ({} {})", s.message, s.code, s.state),
        other => other.to_string(),
    }
}

impl MariaClient {
    async fn conn(&mut self) -> Result<&mut Conn, mysql_async::Error> {
        if self.conn.is_none() {
            let mut c = Conn::new(self.opts.clone()).await?;
            c.query_drop(format!("USE `{}`", self.database)).await?;
            self.conn = Some(c);
        }
        // Just set when missing.
        Ok(self.conn.as_mut().expect("connected"))
    }

    async fn txn(&mut self, mops: &[Value]) -> Result<Value, TxnError> {
        let (isolation, lists) = (self.isolation, self.lists);
        let c = self.conn().await.map_err(early)?;
        c.query_drop(format!("SET TRANSACTION ISOLATION LEVEL {isolation}"))
            .await
            .map_err(early)?;
        c.query_drop("START TRANSACTION").await.map_err(early)?;
        let mut out = Vec::with_capacity(mops.len());
        for m in mops {
            // Checked before the transaction began (see `invoke`).
            let (f, k, v) = micro_op(m).map_err(|error| TxnError {
                maybe_committed: false,
                broken: false,
                error,
            })?;
            let result = match f {
                "append" => c
                    .exec_drop(
                        "INSERT INTO lists (k, v) VALUES (?, ?) \
                         ON DUPLICATE KEY UPDATE v = CONCAT(v, ',', VALUES(v))",
                        (k, v.to_string()),
                    )
                    .await
                    .map(|()| m.clone()),
                "w" => c
                    .exec_drop(
                        "INSERT INTO registers (k, v) VALUES (?, ?) \
                         ON DUPLICATE KEY UPDATE v = VALUES(v)",
                        (k, v),
                    )
                    .await
                    .map(|()| m.clone()),
                _ if lists => c
                    .exec_first::<String, _, _>("SELECT v FROM lists WHERE k = ?", (k,))
                    .await
                    .map(|row| json!(["r", k, row.map(|s| parse_list(&s)).unwrap_or_default()])),
                _ => c
                    .exec_first::<Option<i64>, _, _>("SELECT v FROM registers WHERE k = ?", (k,))
                    .await
                    .map(|row| json!(["r", k, row.flatten()])),
            };
            match result {
                Ok(v) => out.push(v),
                Err(e) => {
                    let _ = c.query_drop("ROLLBACK").await;
                    return Err(early(e));
                }
            }
        }
        match c.query_drop("COMMIT").await {
            Ok(()) => Ok(Value::Array(out)),
            Err(e @ mysql_async::Error::Server(_)) => Err(early(e)),
            // The connection broke: COMMIT may have happened.
            Err(e) => Err(TxnError {
                maybe_committed: true,
                broken: true,
                error: describe(&e),
            }),
        }
    }
}

impl Client for MariaClient {
    /// Creates the database and the tables (idempotent).
    fn setup(&mut self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            let mut c = Conn::new(self.opts.clone())
                .await
                .map_err(|e| describe(&e))?;
            let db = &self.database;
            for sql in [
                format!("CREATE DATABASE IF NOT EXISTS `{db}`"),
                format!(
                    "CREATE TABLE IF NOT EXISTS `{db}`.lists (k BIGINT PRIMARY KEY, v TEXT NOT NULL) ENGINE=InnoDB"
                ),
                format!(
                    "CREATE TABLE IF NOT EXISTS `{db}`.registers (k BIGINT PRIMARY KEY, v BIGINT) ENGINE=InnoDB"
                ),
            ] {
                c.query_drop(sql).await.map_err(|e| describe(&e))?;
            }
            let _ = c.disconnect().await;
            Ok(())
        })
    }

    fn invoke<'a>(&'a mut self, req: &'a Request) -> BoxFuture<'a, Reply> {
        Box::pin(async move {
            let mops = match txn::mops(req, "mariadb") {
                Ok(m) => m,
                Err(r) => return r,
            };
            let outcome = self.txn(mops).await;
            // A connection that broke is not used again.
            if outcome.as_ref().is_err_and(|e| e.broken) {
                self.conn = None;
            }
            txn::reply(req, outcome)
        })
    }

    /// A connection whose COMMIT may or may not have happened, or that
    /// timed out mid-transaction, is not used again.
    fn reset(&mut self) {
        self.conn = None;
    }

    fn close(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Some(c) = self.conn.take() {
                let _ = tokio::time::timeout(std::time::Duration::from_millis(200), c.disconnect())
                    .await;
            }
        })
    }
}
