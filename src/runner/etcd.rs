//! A native etcd v3 client (reads, writes, compare-and-set) over etcd's
//! JSON gateway (`/v3/kv/range`, `/v3/kv/put`, `/v3/kv/txn`), on one
//! keep-alive HTTP/1.1 connection per worker process — no gRPC stack to
//! build. Reads are linearizable by default or serializable (served from
//! the local member, possibly stale). A request that was never sent is
//! `fail`; one that may have reached etcd and got no clear answer is `info`
//! (reads, having no effect, are `fail` either way).

use super::client::{Client, Reply, Request};
use crate::control::BoxFuture;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use faultline_checkers::OpType;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

/// Largest response body read (etcd's answers here are a few hundred bytes).
const MAX_BODY: usize = 64 << 20;

/// One worker's connection to one etcd member.
pub struct EtcdClient {
    addr: String,
    serializable: bool,
    conn: Option<(BufReader<OwnedReadHalf>, OwnedWriteHalf)>,
}

/// Why a request did not produce a response: whether it may have been sent.
struct Failure {
    sent: bool,
    error: String,
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

    async fn post(&mut self, path: &str, body: &Value) -> Result<Value, Failure> {
        if self.conn.is_none() {
            let s = TcpStream::connect(&self.addr).await.map_err(|e| Failure {
                sent: false,
                error: format!("connect {}: {e}", self.addr),
            })?;
            let _ = s.set_nodelay(true);
            let (r, w) = s.into_split();
            self.conn = Some((BufReader::new(r), w));
        }
        let result = self.roundtrip(path, body).await;
        if result.is_err() {
            self.conn = None;
        }
        result
    }

    async fn roundtrip(&mut self, path: &str, body: &Value) -> Result<Value, Failure> {
        let Some((reader, writer)) = self.conn.as_mut() else {
            return Err(Failure {
                sent: false,
                error: "not connected".into(),
            });
        };
        let body = body.to_string();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        );
        let sent = |e: std::io::Error| Failure {
            sent: true,
            error: e.to_string(),
        };
        writer
            .write_all(format!("{head}{body}").as_bytes())
            .await
            .map_err(sent)?;
        let mut status = String::new();
        if reader.read_line(&mut status).await.map_err(sent)? == 0 {
            return Err(Failure {
                sent: true,
                error: "connection closed".into(),
            });
        }
        let code: u16 = status
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| Failure {
                sent: true,
                error: format!("malformed HTTP status line {:?}", status.trim_end()),
            })?;
        let (mut length, mut chunked) = (None, false);
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await.map_err(sent)?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = Some(v.trim().parse::<usize>().map_err(|_| Failure {
                    sent: true,
                    error: format!("malformed header {line:?}"),
                })?);
            } else if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
        }
        let bytes = match (chunked, length) {
            (true, _) => read_chunked(reader).await.map_err(sent)?,
            (false, Some(n)) if n <= MAX_BODY => {
                let mut b = vec![0; n];
                reader.read_exact(&mut b).await.map_err(sent)?;
                b
            }
            (false, Some(n)) => {
                return Err(Failure {
                    sent: true,
                    error: format!("response of {n} bytes is larger than {MAX_BODY}"),
                })
            }
            (false, None) => {
                return Err(Failure {
                    sent: true,
                    error: "response with neither Content-Length nor chunked encoding".into(),
                })
            }
        };
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| Failure {
            sent: true,
            error: format!("bad response: {e}"),
        })?;
        if code != 200 {
            let msg = v
                .get("error")
                .or_else(|| v.get("message"))
                .map_or_else(|| v.to_string(), |m| m.to_string());
            return Err(Failure {
                sent: true,
                error: format!("HTTP {code}: {msg}"),
            });
        }
        Ok(v)
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
            Err(Failure { sent, error }) => {
                let kind = if sent && &*req.f != "read" {
                    OpType::Info
                } else {
                    OpType::Fail
                };
                Reply {
                    kind,
                    value: req.value.clone(),
                    error: Some(error),
                }
            }
        }
    }
}

async fn read_chunked(reader: &mut BufReader<OwnedReadHalf>) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).await?;
        let field = size.trim().split(';').next().unwrap_or("");
        let n = usize::from_str_radix(field, 16)
            .ok()
            .filter(|n| out.len().saturating_add(*n) <= MAX_BODY)
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("malformed or oversized chunk size {:?}", size.trim()),
                )
            })?;
        let mut chunk = vec![0; n + 2];
        reader.read_exact(&mut chunk).await?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&chunk[..n]);
    }
}

impl Client for EtcdClient {
    fn invoke<'a>(&'a mut self, req: &'a Request, timeout: Duration) -> BoxFuture<'a, Reply> {
        Box::pin(async move {
            match tokio::time::timeout(timeout, self.perform(req)).await {
                Ok(r) => r,
                Err(_) => {
                    self.conn = None;
                    let kind = if &*req.f == "read" {
                        OpType::Fail
                    } else {
                        OpType::Info
                    };
                    Reply {
                        kind,
                        value: req.value.clone(),
                        error: Some(format!("timed out after {:.1} s", timeout.as_secs_f64())),
                    }
                }
            }
        })
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
        let mut c = EtcdClient::new("127.0.0.1", port, false);
        let req = Request {
            id: 1,
            f: "write".into(),
            key: None,
            value: json!(3),
        };
        c.invoke(&req, Duration::from_secs(5)).await
    }

    #[tokio::test]
    async fn a_response_without_status_or_length_is_indeterminate_not_empty() {
        let r = write_against("garbage\r\n\r\n{}").await;
        assert_eq!(r.kind, OpType::Info);
        assert!(r.error.unwrap().contains("malformed HTTP status"));
        let r = write_against("HTTP/1.1 200 OK\r\n\r\n{}").await;
        assert_eq!(r.kind, OpType::Info);
        assert!(r.error.unwrap().contains("neither Content-Length"));
        let r = write_against("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n{}").await;
        assert!(r.error.unwrap().contains("malformed header"));
        let r = write_against("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").await;
        assert!(r.error.unwrap().contains("chunk size"));
        let r = write_against("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}").await;
        assert_eq!(r.kind, OpType::Ok);
    }
}
