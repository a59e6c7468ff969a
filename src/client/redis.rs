//! A native Redis client (the `redis` crate), one multiplexed connection
//! per worker process, with no automatic reconnection and no retries: an op
//! whose outcome is unknown is recorded `info`, never silently sent again.
//!
//! Workloads: `set` (`add` → `SADD`, `read` → `SMEMBERS`) and `register` /
//! `cas-register` (`read` → `GET`, `write` → `SET`, `cas` → a Lua script
//! that sets only when the value matches, run atomically by Redis).
//!
//! Options: `port` (default 6379); `sentinel` (`{port, master}`: ask the
//! Sentinel on the worker's node for the current primary, and send every op
//! there); `wait` (`{replicas, timeout}`: after each write, `WAIT` for that
//! many replicas to acknowledge it; fewer acknowledgements make the write
//! `info`, since a failover may yet lose it).
//!
//! An error reply from the server (`READONLY`, `LOADING`, `MASTERDOWN`,
//! `NOREPLICAS` ...) means the command was not executed: `fail`. A broken
//! connection or a garbled reply after the command was sent: `info`.

use super::{Client, ClientConfig, Context, Kind, OpenCtx, Options, Reply, Request};
use crate::control::BoxFuture;
use crate::spec::WorkloadKind;
use faultline_checkers::OpType;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ErrorKind, RedisError};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// Registration.
pub const KIND: Kind = Kind {
    name: "redis",
    configure,
};

/// Compare-and-set as one atomic script: `KEYS[1]` becomes `ARGV[2]` when
/// it holds `ARGV[1]`; returns 1 if it did, 0 if not.
const CAS: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
                   redis.call('SET', KEYS[1], ARGV[2]) return 1 else return 0 end";

/// The error of a compare-and-set whose old value did not match.
const CAS_MISMATCH: &str = "cas mismatch";

/// A validated Redis client.
#[derive(Debug)]
pub struct RedisConfig {
    /// The server's port.
    pub port: u16,
    /// Sentinel to ask for the primary: its port and the master's name.
    pub sentinel: Option<(u16, String)>,
    /// Replicas every write must reach (`WAIT`), and how long to wait.
    pub wait: Option<(u32, Duration)>,
    /// Set workload (SADD/SMEMBERS) or registers (GET/SET/cas).
    pub set: bool,
}

fn configure(o: &mut Options<'_>, ctx: &Context) -> Arc<dyn ClientConfig> {
    let set = ctx.workload == WorkloadKind::Set;
    if !set
        && !matches!(
            ctx.workload,
            WorkloadKind::Register | WorkloadKind::CasRegister
        )
    {
        o.error(
            "kind",
            "the redis client runs set, register and cas-register workloads",
        );
    }
    let port = o.port("port", 6379);
    let sentinel = o.raw("sentinel").and_then(|v| {
        let port = v.get("port").map_or(Some(26379), |p| {
            p.as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .filter(|n| *n > 0)
        });
        let master = v
            .get("master")
            .and_then(Value::as_str)
            .unwrap_or("mymaster");
        let known = v
            .as_object()
            .is_some_and(|m| m.keys().all(|k| k == "port" || k == "master"));
        match port {
            Some(port) if known && !master.is_empty() => Some((port, master.to_string())),
            _ => {
                o.error(
                    "sentinel",
                    format!("expected {{port: 1-65535, master: NAME}}, found {v}"),
                );
                None
            }
        }
    });
    let wait = o.raw("wait").and_then(|v| {
        let replicas = v
            .get("replicas")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0);
        let timeout = match v.get("timeout") {
            None => Some(Duration::from_secs(1)),
            Some(t) => serde_json::from_value::<crate::spec::DurationField>(t.clone())
                .ok()
                .and_then(|d| d.get().ok())
                .filter(|d| !d.is_zero() && d.as_millis() < u32::MAX as u128),
        };
        let known = v
            .as_object()
            .is_some_and(|m| m.keys().all(|k| k == "replicas" || k == "timeout"));
        match (replicas, timeout) {
            (Some(r), Some(t)) if known => Some((r, t)),
            _ => {
                o.error(
                    "wait",
                    format!(
                        "expected {{replicas: N above 0, timeout: DURATION like 500ms}}, found {v}"
                    ),
                );
                None
            }
        }
    });
    Arc::new(RedisConfig {
        port,
        sentinel,
        wait,
        set,
    })
}

impl ClientConfig for RedisConfig {
    fn describe(&self) -> String {
        let mut s = match &self.sentinel {
            Some((port, master)) => format!(
                "redis, primary {master:?} from the Sentinel on port {port} (server port {})",
                self.port
            ),
            None => format!("redis on port {}", self.port),
        };
        if let Some((n, t)) = self.wait {
            s.push_str(&format!(
                ", WAIT for {n} replica(s) up to {} ms after each write",
                t.as_millis()
            ));
        }
        s
    }

    fn open(&self, ctx: &OpenCtx<'_>) -> Box<dyn Client> {
        Box::new(RedisClient {
            host: ctx.node.addr.clone(),
            port: self.port,
            sentinel: self.sentinel.clone(),
            wait: self.wait,
            set: self.set,
            conn: None,
        })
    }
}

/// One worker's connection.
pub struct RedisClient {
    host: String,
    port: u16,
    sentinel: Option<(u16, String)>,
    wait: Option<(u32, Duration)>,
    set: bool,
    conn: Option<MultiplexedConnection>,
}

/// Opens a connection to `host:port`: no response timeout (the op timeout
/// applies), no reconnection.
async fn connect(host: &str, port: u16) -> Result<MultiplexedConnection, RedisError> {
    let client = redis::Client::open(format!("redis://{host}:{port}/"))?;
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(None)
        .set_response_timeout(None);
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

impl RedisClient {
    /// The connection, opened (through Sentinel if asked) when there is none.
    async fn conn(&mut self) -> Result<&mut MultiplexedConnection, String> {
        if self.conn.is_none() {
            let (host, port) = match &self.sentinel {
                None => (self.host.clone(), self.port),
                Some((sport, master)) => {
                    let mut s = connect(&self.host, *sport)
                        .await
                        .map_err(|e| format!("sentinel {}:{sport}: {e}", self.host))?;
                    let addr: Option<(String, u16)> = redis::cmd("SENTINEL")
                        .arg("get-master-addr-by-name")
                        .arg(master)
                        .query_async(&mut s)
                        .await
                        .map_err(|e| format!("sentinel {}:{sport}: {e}", self.host))?;
                    addr.ok_or_else(|| {
                        format!("sentinel {}:{sport} knows no master {master:?}", self.host)
                    })?
                }
            };
            let c = connect(&host, port)
                .await
                .map_err(|e| format!("connect {host}:{port}: {e}"))?;
            self.conn = Some(c);
        }
        self.conn.as_mut().ok_or_else(|| "not connected".into())
    }

    async fn perform(&mut self, req: &Request) -> Reply {
        let key = match (&req.key, self.set) {
            (Some(k), true) => format!("faultline:set:{k}"),
            (None, true) => "faultline:set".to_string(),
            (Some(k), false) => format!("faultline:r:{k}"),
            (None, false) => "faultline:r".to_string(),
        };
        let (set, wait) = (self.set, self.wait);
        let value = req.value.clone();
        let conn = match self.conn().await {
            Ok(c) => c,
            // Nothing was sent.
            Err(e) => return Reply::fail(value, e),
        };
        let sent = |e: RedisError| classify(req.value.clone(), e);
        match (&*req.f, set) {
            ("add", true) => {
                let Some(v) = req.value.as_i64() else {
                    let msg = format!("set elements are integers, not {value}");
                    return Reply::fail(value, msg);
                };
                match redis::cmd("SADD")
                    .arg(&key)
                    .arg(v)
                    .query_async::<i64>(conn)
                    .await
                {
                    Ok(_) => waited(conn, wait, value).await,
                    Err(e) => sent(e),
                }
            }
            ("read", true) => {
                match redis::cmd("SMEMBERS")
                    .arg(&key)
                    .query_async::<Vec<String>>(conn)
                    .await
                {
                    Ok(members) => {
                        let mut elems: Vec<Value> = members
                            .iter()
                            .map(|m| m.parse::<i64>().map_or_else(|_| json!(m), |n| json!(n)))
                            .collect();
                        elems.sort_by_key(|v| v.as_i64());
                        Reply::ok(Value::Array(elems))
                    }
                    Err(e) => sent(e),
                }
            }
            ("read", false) => match redis::cmd("GET")
                .arg(&key)
                .query_async::<Option<String>>(conn)
                .await
            {
                Ok(v) => Reply::ok(
                    v.map(|s| serde_json::from_str(&s).unwrap_or(Value::String(s)))
                        .unwrap_or(Value::Null),
                ),
                Err(e) => sent(e),
            },
            ("write", false) => match redis::cmd("SET")
                .arg(&key)
                .arg(value.to_string())
                .query_async::<()>(conn)
                .await
            {
                Ok(()) => waited(conn, wait, value).await,
                Err(e) => sent(e),
            },
            ("cas", false) => {
                let (Some(old), Some(new)) = (value.get(0), value.get(1)) else {
                    let msg = format!("cas takes [old, new], not {value}");
                    return Reply::fail(value, msg);
                };
                match redis::cmd("EVAL")
                    .arg(CAS)
                    .arg(1)
                    .arg(&key)
                    .arg(old.to_string())
                    .arg(new.to_string())
                    .query_async::<i64>(conn)
                    .await
                {
                    Ok(1) => waited(conn, wait, value).await,
                    Ok(_) => Reply::fail(value, CAS_MISMATCH),
                    Err(e) => sent(e),
                }
            }
            (f, _) => Reply::fail(
                value,
                format!("the redis client cannot {f} in this workload"),
            ),
        }
    }
}

/// After a write that Redis applied: `ok`, or with `wait`, `ok` only when
/// enough replicas acknowledged it (`info` otherwise: a failover may lose it).
async fn waited(
    conn: &mut MultiplexedConnection,
    wait: Option<(u32, Duration)>,
    value: Value,
) -> Reply {
    let Some((replicas, timeout)) = wait else {
        return Reply::ok(value);
    };
    match redis::cmd("WAIT")
        .arg(replicas)
        .arg(timeout.as_millis() as u64)
        .query_async::<u32>(conn)
        .await
    {
        Ok(n) if n >= replicas => Reply::ok(value),
        Ok(n) => Reply::info(
            value,
            format!(
                "written on the primary, but only {n} of {replicas} replica(s) acknowledged it"
            ),
        ),
        Err(e) => Reply::info(
            value,
            format!("written on the primary, then WAIT failed: {e}"),
        ),
    }
}

/// An error after the command was sent: an error reply from the server
/// means it was not executed (`fail`); anything else may hide an executed
/// command (`info`).
fn classify(value: Value, e: RedisError) -> Reply {
    // Error codes the crate does not know (`NOREPLICAS`) come as its
    // `Extension` kind: the code is there either way.
    if matches!(e.kind(), ErrorKind::Server(_)) || e.code().is_some() {
        Reply::fail(value, e.to_string())
    } else {
        Reply::info(value, e.to_string())
    }
}

impl Client for RedisClient {
    /// After anything but success (or a compare-and-set that did not
    /// match), the connection is dropped: the next op connects again, and
    /// asks Sentinel again which node is the primary (a `READONLY` error
    /// means the primary moved).
    fn invoke<'a>(&'a mut self, req: &'a Request) -> BoxFuture<'a, Reply> {
        Box::pin(async move {
            let reply = self.perform(req).await;
            if reply.kind != OpType::Ok && reply.error.as_deref() != Some(CAS_MISMATCH) {
                self.conn = None;
            }
            reply
        })
    }

    fn reset(&mut self) {
        self.conn = None;
    }

    fn close(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.conn = None;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// An add against a "server" that answers `answer` to every command
    /// after the handshake (`None`: closes the connection instead).
    async fn add_against(answer: Option<&'static str>) -> Reply {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            if let Ok((mut s, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                while let Ok(n) = s.read(&mut buf).await {
                    let req = String::from_utf8_lossy(&buf[..n]).to_string();
                    if n == 0 {
                        break;
                    }
                    // The crate's handshake (CLIENT SETINFO) gets OK.
                    if req.contains("SETINFO") || req.contains("HELLO") {
                        let _ = s.write_all(b"+OK\r\n+OK\r\n").await;
                        continue;
                    }
                    match answer {
                        Some(a) => {
                            let _ = s.write_all(a.as_bytes()).await;
                        }
                        None => break,
                    }
                }
            }
        });
        let mut c = RedisClient {
            host: "127.0.0.1".into(),
            port,
            sentinel: None,
            wait: None,
            set: true,
            conn: None,
        };
        let req = Request {
            id: 1,
            f: "add".into(),
            key: None,
            value: json!(7),
        };
        crate::client::invoke(&mut c, &req, Duration::from_secs(5)).await
    }

    #[tokio::test]
    async fn error_replies_fail_and_a_lost_connection_is_info() {
        let r = add_against(Some(":1\r\n")).await;
        assert_eq!(r.kind, OpType::Ok, "{r:?}");
        for e in [
            "-READONLY You can't write against a read only replica.\r\n",
            "-NOREPLICAS Not enough good replicas to write.\r\n",
            "-LOADING Redis is loading the dataset in memory\r\n",
        ] {
            let r = add_against(Some(e)).await;
            assert_eq!(r.kind, OpType::Fail, "{e}: {r:?}");
        }
        let r = add_against(None).await;
        assert_eq!(r.kind, OpType::Info, "{r:?}");
    }

    #[test]
    fn options_are_checked() {
        let ctx = Context {
            workload: WorkloadKind::Set,
        };
        let map = |v: Value| serde_json::from_value(v).unwrap();
        let ok = crate::client::configure(
            "redis",
            &map(json!({"sentinel": {"port": 26379, "master": "m"}, "wait": {"replicas": 1, "timeout": "500ms"}})),
            &ctx,
        )
        .unwrap();
        assert!(
            ok.describe().contains("WAIT for 1 replica(s) up to 500 ms"),
            "{}",
            ok.describe()
        );
        for bad in [
            json!({"sentinel": {"port": 0}}),
            json!({"sentinel": {"prot": 1}}),
            json!({"wait": {"replicas": 0}}),
            json!({"wait": {"replicas": 1, "timeout": "forever"}}),
        ] {
            let e = crate::client::configure("redis", &map(bad.clone()), &ctx).unwrap_err();
            assert!(e[0].key.starts_with("client."), "{bad}: {e:?}");
        }
        let e = crate::client::configure(
            "redis",
            &map(json!({})),
            &Context {
                workload: WorkloadKind::ListAppend,
            },
        )
        .unwrap_err();
        assert_eq!(e[0].key, "client.kind");
    }
}
