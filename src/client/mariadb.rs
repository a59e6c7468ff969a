//! A native MariaDB / MySQL client (`mysql_async`) for Elle's transactional
//! workloads, the same tables and statements as the PostgreSQL client in
//! MySQL's dialect: list-append keeps each key's list as comma-separated
//! text (`lists(k, v)`, appended by `INSERT ... ON DUPLICATE KEY UPDATE`),
//! rw-register keeps integers (`registers(k, v)`). Each transaction runs at
//! the spec's isolation level. With `tables: N` the keys are spread over N
//! tables (`lists0` .. `lists{N-1}`, key k in table k mod N), as Jepsen's
//! Galera test does. The `set` workload inserts one row per element
//! (`elements(k, v)`, autocommitted) and reads them all back, so lost
//! commits are named as lost elements.
//!
//! Errors (`after_error`): any error before COMMIT is `fail` (nothing
//! was sent to be committed; a lost connection rolls the transaction back).
//! Among them, deadlocks and lock wait timeouts (1213, 1205), "record has
//! changed since last read" (1020, `innodb_snapshot_isolation`), and
//! Galera's "WSREP has not yet prepared node for application use" (1047,
//! a node outside the primary component or not yet synced, refusing the
//! statement). An error reply to COMMIT is `fail` too: Galera's
//! certification failure comes as 1213 ("Deadlock found"), decided the same
//! way on every node; 1047 means COMMIT was refused before it ran. Except
//! the replies that leave the outcome open, which are `info`: "got error
//! during COMMIT" (1180, what Galera answers when replicating the write
//! set failed, e.g. the node lost the primary component), the connection
//! killed or the server shutting down (1927, 1053), the query interrupted
//! (1317). A connection lost during COMMIT is `info`. After an error at
//! COMMIT, or a ROLLBACK that failed, the connection is dropped, so a
//! transaction left open cannot be committed by the next one.
//!
//! Options: `port` (default 3306), `isolation` (`serializable`, the
//! default, `repeatable-read`, `read-committed`, `read-uncommitted`),
//! `user` (default `root`), `password` (default none), `database` (default
//! `faultline`, created by `setup` if missing), `tables` (1 to 64, default
//! 1; list-append and rw-register).

use super::txn::{self, micro_op, parse_list, TxnError};
use super::{Client, ClientConfig, Context, Kind, OpenCtx, Options, Reply, Request};
use crate::control::BoxFuture;
use crate::spec::WorkloadKind;
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
    /// What the workload keeps.
    pub shape: Shape,
    /// Tables the keys are spread over (list-append, rw-register).
    pub tables: u64,
}

/// What a workload keeps, and in which table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// List-append: comma-separated text in `lists`.
    Lists,
    /// rw-register: integers in `registers`.
    Registers,
    /// set: one row per element in `elements`.
    Set,
}

impl Shape {
    /// The table's name (before any per-table number).
    fn table(self) -> &'static str {
        match self {
            Shape::Lists => "lists",
            Shape::Registers => "registers",
            Shape::Set => "elements",
        }
    }

    /// The table's columns.
    fn columns(self) -> &'static str {
        match self {
            Shape::Lists => "k BIGINT PRIMARY KEY, v TEXT NOT NULL",
            Shape::Registers => "k BIGINT PRIMARY KEY, v BIGINT",
            Shape::Set => "k BIGINT NOT NULL, v BIGINT NOT NULL, PRIMARY KEY (k, v)",
        }
    }
}

/// The table key `k` lives in: the shape's table when there is one, else
/// table `k mod tables`.
fn table_of(shape: Shape, tables: u64, k: i64) -> String {
    if tables <= 1 {
        shape.table().to_string()
    } else {
        // `tables` is at most 64.
        format!("{}{}", shape.table(), k.rem_euclid(tables as i64))
    }
}

fn configure(o: &mut Options<'_>, ctx: &Context) -> Arc<dyn ClientConfig> {
    let port = o.port("port", 3306);
    let (isolation, shape) = if ctx.workload == WorkloadKind::Set {
        (txn::isolation(o, 4), Shape::Set)
    } else if ctx.workload.is_txn() {
        let (isolation, lists) = txn::configure(o, ctx, "mariadb", 4);
        let shape = if lists {
            Shape::Lists
        } else {
            Shape::Registers
        };
        (isolation, shape)
    } else {
        o.error(
            "kind",
            "the mariadb client runs list-append, rw-register and set workloads",
        );
        ("serializable", Shape::Lists)
    };
    let tables = if shape == Shape::Set {
        1
    } else {
        o.count("tables", 1, 64, 1)
    };
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
        shape,
        tables,
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
            shape: self.shape,
            tables: self.tables,
            conn: None,
        })
    }
}

/// One worker's connection.
pub struct MariaClient {
    opts: Opts,
    database: String,
    isolation: &'static str,
    shape: Shape,
    tables: u64,
    conn: Option<Conn>,
}

/// Replies to COMMIT that leave its outcome open (MariaDB's `ER_*` names).
/// Every other error reply is definite: 1213 (a certification failure or a
/// deadlock), 1047 (Galera refusing the statement), 1020 and 1205.
mod code {
    /// "Server shutdown in progress".
    pub const SERVER_SHUTDOWN: u16 = 1053;
    /// "Got error N during COMMIT" (Galera: replicating the write set failed).
    pub const ERROR_DURING_COMMIT: u16 = 1180;
    /// "Query execution was interrupted".
    pub const QUERY_INTERRUPTED: u16 = 1317;
    /// "Connection was killed".
    pub const CONNECTION_KILLED: u16 = 1927;
}

/// Where in a transaction an error came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Before COMMIT was sent (SET TRANSACTION, START TRANSACTION, a
    /// micro-op, or connecting).
    Before,
    /// In reply to COMMIT.
    Commit,
}

/// What an error tells about the transaction: whether it may have
/// committed (`info`) or certainly did not (`fail`), and whether the
/// connection must be dropped.
fn after_error(e: &mysql_async::Error, stage: Stage) -> TxnError {
    let (maybe_committed, broken) = match (e, stage) {
        // Nothing was sent to be committed; the server rolls back a
        // transaction whose connection is gone.
        (mysql_async::Error::Server(_), Stage::Before) => (false, false),
        (_, Stage::Before) => (false, true),
        (mysql_async::Error::Server(s), Stage::Commit) => (
            matches!(
                s.code,
                code::ERROR_DURING_COMMIT
                    | code::SERVER_SHUTDOWN
                    | code::CONNECTION_KILLED
                    | code::QUERY_INTERRUPTED
            ),
            // A refused COMMIT (1047) leaves the transaction open.
            true,
        ),
        // The connection broke: COMMIT may have happened.
        (_, Stage::Commit) => (true, true),
    };
    TxnError {
        maybe_committed,
        broken,
        error: describe(e),
    }
}

/// An error before COMMIT: the transaction did not happen.
fn early(e: mysql_async::Error) -> TxnError {
    after_error(&e, Stage::Before)
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
        let (isolation, shape, tables) = (self.isolation, self.shape, self.tables);
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
            let table = table_of(shape, tables, k);
            let result = match f {
                "append" => c
                    .exec_drop(
                        format!(
                            "INSERT INTO {table} (k, v) VALUES (?, ?) \
                             ON DUPLICATE KEY UPDATE v = CONCAT(v, ',', VALUES(v))"
                        ),
                        (k, v.to_string()),
                    )
                    .await
                    .map(|()| m.clone()),
                "w" => c
                    .exec_drop(
                        format!(
                            "INSERT INTO {table} (k, v) VALUES (?, ?) \
                             ON DUPLICATE KEY UPDATE v = VALUES(v)"
                        ),
                        (k, v),
                    )
                    .await
                    .map(|()| m.clone()),
                _ if shape == Shape::Lists => c
                    .exec_first::<String, _, _>(format!("SELECT v FROM {table} WHERE k = ?"), (k,))
                    .await
                    .map(|row| json!(["r", k, row.map(|s| parse_list(&s)).unwrap_or_default()])),
                _ => c
                    .exec_first::<Option<i64>, _, _>(
                        format!("SELECT v FROM {table} WHERE k = ?"),
                        (k,),
                    )
                    .await
                    .map(|row| json!(["r", k, row.flatten()])),
            };
            match result {
                Ok(v) => out.push(v),
                Err(e) => {
                    let mut outcome = early(e);
                    // A transaction that may still be open is not left on a
                    // connection the next transaction would commit it on.
                    if c.query_drop("ROLLBACK").await.is_err() {
                        outcome.broken = true;
                    }
                    return Err(outcome);
                }
            }
        }
        c.query_drop("COMMIT")
            .await
            .map(|()| Value::Array(out))
            .map_err(|e| after_error(&e, Stage::Commit))
    }

    /// A set operation: `add` inserts the element's row, autocommitted, so
    /// the reply to the INSERT is the reply to its COMMIT; `read` returns
    /// every element, sorted.
    async fn set_op(&mut self, req: &Request) -> Reply {
        let k = req.key.as_ref().and_then(Value::as_i64).unwrap_or(0);
        let value = req.value.clone();
        let conn = match self.conn().await {
            Ok(c) => c,
            // Nothing was sent.
            Err(e) => return Reply::fail(value, describe(&e)),
        };
        let outcome = match &*req.f {
            "add" => {
                let Some(v) = req.value.as_i64() else {
                    return Reply::fail(
                        value.clone(),
                        format!("set elements are integers, not {value}"),
                    );
                };
                conn.exec_drop("INSERT INTO elements (k, v) VALUES (?, ?)", (k, v))
                    .await
                    .map(|()| value.clone())
                    .map_err(|e| after_error(&e, Stage::Commit))
            }
            "read" => conn
                .exec::<i64, _, _>("SELECT v FROM elements WHERE k = ? ORDER BY v", (k,))
                .await
                .map(|elems| json!(elems))
                .map_err(early),
            f => {
                return Reply::fail(
                    value,
                    format!("the mariadb client cannot {f} in a set workload"),
                )
            }
        };
        if outcome.as_ref().is_err_and(|e| e.broken) {
            self.conn = None;
        }
        txn::reply(req, outcome)
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
            let mut statements = vec![format!("CREATE DATABASE IF NOT EXISTS `{db}`")];
            for i in 0..self.tables.max(1) {
                let table = table_of(self.shape, self.tables, i as i64);
                let columns = self.shape.columns();
                statements.push(format!(
                    "CREATE TABLE IF NOT EXISTS `{db}`.{table} ({columns}) ENGINE=InnoDB"
                ));
            }
            for sql in statements {
                c.query_drop(sql).await.map_err(|e| describe(&e))?;
            }
            let _ = c.disconnect().await;
            Ok(())
        })
    }

    fn invoke<'a>(&'a mut self, req: &'a Request) -> BoxFuture<'a, Reply> {
        Box::pin(async move {
            if self.shape == Shape::Set {
                return self.set_op(req).await;
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// ER_LOCK_DEADLOCK: a deadlock, or Galera's certification failure.
    const DEADLOCK: u16 = 1213;
    /// ER_UNKNOWN_COM_ERROR: "WSREP has not yet prepared node for application use".
    const NOT_PREPARED: u16 = 1047;
    /// ER_CHECKREAD: "Record has changed since last read".
    const CHECKREAD: u16 = 1020;
    /// ER_LOCK_WAIT_TIMEOUT.
    const LOCK_WAIT_TIMEOUT: u16 = 1205;

    fn server(code: u16, message: &str) -> mysql_async::Error {
        mysql_async::Error::Server(mysql_async::ServerError {
            code,
            message: message.into(),
            state: if code == DEADLOCK { "40001" } else { "HY000" }.into(),
        })
    }

    fn io_lost() -> mysql_async::Error {
        mysql_async::Error::Io(mysql_async::IoError::Io(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset by peer",
        )))
    }

    /// (maybe committed, drop the connection)
    fn verdict(e: &mysql_async::Error, stage: Stage) -> (bool, bool) {
        let t = after_error(e, stage);
        (t.maybe_committed, t.broken)
    }

    #[test]
    fn galera_refusals_and_conflicts_before_commit_are_definite_failures() {
        for (c, m) in [
            (
                DEADLOCK,
                "Deadlock found when trying to get lock; try restarting transaction",
            ),
            (
                NOT_PREPARED,
                "WSREP has not yet prepared node for application use",
            ),
            (
                CHECKREAD,
                "Record has changed since last read in table 'lists'",
            ),
            (
                LOCK_WAIT_TIMEOUT,
                "Lock wait timeout exceeded; try restarting transaction",
            ),
        ] {
            // fail, and the connection (still fine) is kept.
            assert_eq!(verdict(&server(c, m), Stage::Before), (false, false), "{c}");
        }
        // A connection lost before COMMIT: rolled back, reconnect.
        assert_eq!(verdict(&io_lost(), Stage::Before), (false, true));
    }

    #[test]
    fn a_certification_failure_or_a_refused_commit_is_a_failure_and_drops_the_connection() {
        for c in [DEADLOCK, NOT_PREPARED, CHECKREAD] {
            let t = after_error(&server(c, "x"), Stage::Commit);
            assert!(!t.maybe_committed, "{c} at COMMIT is fail");
            // 1047 refused COMMIT without running it: the transaction is
            // still open on that connection.
            assert!(t.broken, "{c}: the connection is dropped");
        }
        let t = txn::reply(
            &Request {
                id: 1,
                f: "txn".into(),
                key: None,
                value: serde_json::json!([["append", 1, 2]]),
            },
            Err(after_error(
                &server(
                    DEADLOCK,
                    "Deadlock found when trying to get lock; try restarting transaction",
                ),
                Stage::Commit,
            )),
        );
        assert_eq!(t.kind, faultline_checkers::OpType::Fail);
        assert!(
            t.error.as_deref().unwrap_or("").contains("1213"),
            "{:?}",
            t.error
        );
    }

    #[test]
    fn a_commit_whose_outcome_is_open_is_indeterminate() {
        // The connection lost in COMMIT, and the replies that leave it open.
        assert_eq!(verdict(&io_lost(), Stage::Commit), (true, true));
        for c in [
            code::ERROR_DURING_COMMIT,
            code::SERVER_SHUTDOWN,
            code::CONNECTION_KILLED,
            code::QUERY_INTERRUPTED,
        ] {
            assert_eq!(verdict(&server(c, "x"), Stage::Commit), (true, true), "{c}");
            // The same before COMMIT: nothing was committed.
            assert!(
                !after_error(&server(c, "x"), Stage::Before).maybe_committed,
                "{c}"
            );
        }
    }

    #[test]
    fn keys_are_spread_over_the_tables_by_their_remainder() {
        assert_eq!(table_of(Shape::Lists, 1, 7), "lists");
        assert_eq!(table_of(Shape::Lists, 3, 7), "lists1");
        assert_eq!(table_of(Shape::Registers, 3, -1), "registers2");
        assert_eq!(table_of(Shape::Set, 1, 0), "elements");
        let names: std::collections::BTreeSet<String> =
            (0..30).map(|k| table_of(Shape::Lists, 3, k)).collect();
        assert_eq!(names.len(), 3, "{names:?}");
    }

    #[test]
    fn errors_are_described_with_their_code() {
        let d = describe(&server(
            NOT_PREPARED,
            "WSREP has not yet prepared node for application use",
        ));
        assert_eq!(
            d,
            "WSREP has not yet prepared node for application use (1047 HY000)"
        );
    }
}
