//! A native etcd v3 client (reads, writes, compare-and-set) over etcd's
//! JSON gateway (`/v3/kv/range`, `/v3/kv/put`, `/v3/kv/txn`), on one
//! keep-alive HTTP/1.1 connection per worker process (hyper's low-level
//! connection API: it tells a request that was never sent from one that
//! was) — no gRPC stack to build. Reads are linearizable by default or serializable (served from
//! the local member, possibly stale). A request that was never sent is
//! `fail`; one that may have reached etcd and got no clear answer is `info`
//! (reads, having no effect, are `fail` either way).

use super::{Client, ClientConfig, Context, Kind, OpenCtx, Options, Reply, Request};
use crate::control::BoxFuture;
use crate::spec::WorkloadKind;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use faultline_checkers::OpType;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// Largest response body read (etcd's answers here are a few hundred bytes).
const MAX_BODY: usize = 64 << 20;

/// Registration.
pub const KIND: Kind = Kind {
    name: "etcd",
    configure,
};

/// A validated etcd client: options `port` (default 2379) and `reads`
/// (`linearizable`, the default, or `serializable`).
#[derive(Debug)]
pub struct EtcdConfig {
    /// Client port.
    pub port: u16,
    /// Serializable (possibly stale) reads instead of linearizable.
    pub serializable: bool,
}

fn configure(o: &mut Options<'_>, ctx: &Context) -> Arc<dyn ClientConfig> {
    if !matches!(
        ctx.workload,
        WorkloadKind::Register | WorkloadKind::CasRegister
    ) {
        o.error(
            "kind",
            "the etcd client runs register and cas-register workloads",
        );
    }
    let port = o.port("port", 2379);
    let reads = o.choice("reads", &["linearizable", "serializable"], "linearizable");
    Arc::new(EtcdConfig {
        port,
        serializable: reads == "serializable",
    })
}

impl ClientConfig for EtcdConfig {
    fn describe(&self) -> String {
        let reads = if self.serializable {
            "serializable"
        } else {
            "linearizable"
        };
        format!("etcd on port {}, {reads} reads", self.port)
    }

    fn open(&self, ctx: &OpenCtx<'_>) -> Box<dyn Client> {
        Box::new(EtcdClient::new(
            &ctx.node.addr,
            self.port,
            self.serializable,
        ))
    }
}

/// One worker's connection to one etcd member.
pub struct EtcdClient {
    addr: String,
    serializable: bool,
    conn: Option<Conn>,
}

/// An open HTTP/1.1 connection: the request sender and the task driving it.
struct Conn {
    sender: SendRequest<Full<Bytes>>,
    driver: JoinHandle<()>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// Why a request did not produce a response: whether it may have been sent.
struct Failure {
    sent: bool,
    error: String,
}

impl Failure {
    fn unsent(error: impl Into<String>) -> Failure {
        Failure {
            sent: false,
            error: error.into(),
        }
    }

    fn sent(error: impl Into<String>) -> Failure {
        Failure {
            sent: true,
            error: error.into(),
        }
    }
}

impl EtcdClient {
    /// A client for the member at `host:port`.
    pub fn new(host: &str, port: u16, serializable: bool) -> EtcdClient {
        EtcdClient {
            addr: format!("{host}:{port}"),
            serializable,
            conn: None,
        }
    }

    async fn connect(&self) -> Result<Conn, Failure> {
        let stream = TcpStream::connect(&self.addr)
            .await
            .map_err(|e| Failure::unsent(format!("connect {}: {e}", self.addr)))?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| Failure::unsent(format!("connect {}: {e}", self.addr)))?;
        let driver = tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Conn { sender, driver })
    }

    async fn post(&mut self, path: &str, body: &Value) -> Result<Value, Failure> {
        let conn = match self.conn.take() {
            Some(c) if !c.sender.is_closed() => c,
            _ => self.connect().await?,
        };
        let conn = self.conn.insert(conn);
        let result = roundtrip(&self.addr, &mut conn.sender, path, body).await;
        if result.is_err() {
            self.conn = None;
        }
        result
    }

    async fn perform(&mut self, req: &Request) -> Reply {
        let key = B64.encode(match &req.key {
            Some(k) => format!("k{k}"),
            None => "r".to_string(),
        });
        let enc = |v: &Value| B64.encode(v.to_string());
        let ok = |value: Value| Reply {
            kind: OpType::Ok,
            value,
            error: None,
        };
        let outcome = match &*req.f {
            "read" => self
                .post(
                    "/v3/kv/range",
                    &json!({"key": key, "serializable": self.serializable}),
                )
                .await
                .map(|r| {
                    let value = r["kvs"][0]["value"]
                        .as_str()
                        .and_then(|v| B64.decode(v).ok())
                        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                        .unwrap_or(Value::Null);
                    ok(value)
                }),
            "write" => self
                .post("/v3/kv/put", &json!({"key": key, "value": enc(&req.value)}))
                .await
                .map(|_| ok(req.value.clone())),
            "cas" => {
                let (old, new) = (&req.value[0], &req.value[1]);
                let txn = json!({
                    "compare": [{"key": key, "target": "VALUE", "result": "EQUAL", "value": enc(old)}],
                    "success": [{"request_put": {"key": key, "value": enc(new)}}],
                });
                self.post("/v3/kv/txn", &txn).await.map(|r| {
                    if r["succeeded"].as_bool().unwrap_or(false) {
                        ok(req.value.clone())
                    } else {
                        Reply {
                            kind: OpType::Fail,
                            value: req.value.clone(),
                            error: Some("cas mismatch".into()),
                        }
                    }
                })
            }
            f => Ok(Reply {
                kind: OpType::Fail,
                value: req.value.clone(),
                error: Some(format!("etcd client cannot {f}")),
            }),
        };
        match outcome {
            Ok(r) => r,
            // Reads have no effect: the guard records an indeterminate one
            // as `fail`.
            Err(Failure { sent: true, error }) => Reply::info(req.value.clone(), error),
            Err(Failure { sent: false, error }) => Reply::fail(req.value.clone(), error),
        }
    }
}

/// One POST of a JSON body on `sender`, and its JSON answer.
async fn roundtrip(
    addr: &str,
    sender: &mut SendRequest<Full<Bytes>>,
    path: &str,
    body: &Value,
) -> Result<Value, Failure> {
    sender
        .ready()
        .await
        .map_err(|e| Failure::unsent(format!("connection to {addr}: {e}")))?;
    let request = hyper::Request::post(path)
        .header(hyper::header::HOST, addr)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .map_err(|e| Failure::unsent(format!("building the request: {e}")))?;
    let response = sender.try_send_request(request).await.map_err(|mut e| {
        // The request comes back only if it was never written.
        let sent = e.take_message().is_none();
        Failure {
            sent,
            error: e.error().to_string(),
        }
    })?;
    let code = response.status();
    let bytes = Limited::new(response.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| Failure::sent(format!("reading the response: {e}")))?
        .to_bytes();
    let v: Value =
        serde_json::from_slice(&bytes).map_err(|e| Failure::sent(format!("bad response: {e}")))?;
    if code != hyper::StatusCode::OK {
        let msg = v
            .get("error")
            .or_else(|| v.get("message"))
            .map_or_else(|| v.to_string(), |m| m.to_string());
        return Err(Failure::sent(format!("HTTP {}: {msg}", code.as_u16())));
    }
    Ok(v)
}

impl Client for EtcdClient {
    fn invoke<'a>(&'a mut self, req: &'a Request) -> BoxFuture<'a, Reply> {
        Box::pin(self.perform(req))
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
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A write against a server that answers `answer` to anything.
    async fn write_against(answer: &'static str) -> Reply {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            if let Ok((mut s, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(answer.as_bytes()).await;
                let _ = s.shutdown().await;
            }
        });
        write_to(port).await
    }

    /// A write of 3 to the "member" at 127.0.0.1:`port`.
    async fn write_to(port: u16) -> Reply {
        let mut c = EtcdClient::new("127.0.0.1", port, false);
        let req = Request {
            id: 1,
            f: "write".into(),
            key: None,
            value: json!(3),
        };
        crate::client::invoke(&mut c, &req, Duration::from_secs(5)).await
    }

    #[tokio::test]
    async fn a_garbled_or_cut_response_is_indeterminate_not_empty() {
        let r = write_against("garbage\r\n\r\n{}").await;
        assert_eq!(r.kind, OpType::Info, "{r:?}");
        let r = write_against("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n{}").await;
        assert_eq!(r.kind, OpType::Info, "{r:?}");
        let r = write_against("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").await;
        assert_eq!(r.kind, OpType::Info, "{r:?}");
        let r = write_against("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}").await;
        assert_eq!(r.kind, OpType::Info, "{r:?}");
        let r = write_against("HTTP/1.1 503 Unavailable\r\nContent-Length: 2\r\n\r\n{}").await;
        assert_eq!(r.kind, OpType::Info, "{r:?}");
        assert!(r.error.unwrap().contains("HTTP 503"));
        let r = write_against("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}").await;
        assert_eq!(r.kind, OpType::Ok, "{r:?}");
    }

    #[tokio::test]
    async fn nothing_listening_is_fail_not_info() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let r = write_to(port).await;
        assert_eq!(r.kind, OpType::Fail, "{r:?}");
        assert!(r.error.unwrap().contains("connect"));
    }
}
