//! Time to first token, which oha cannot measure: sequential streaming requests over one
//! keep-alive connection, each timed from just before the request is written to the moment
//! the first SSE `data:` event whose `choices[0].delta.content` is non-empty has arrived.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::http::Connection;

/// Time-to-first-token samples of one target, in seconds.
#[derive(Debug, Clone)]
pub struct Ttft {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// Times `samples` streaming requests (after `warmup` untimed ones).
pub fn measure(
    addr: SocketAddr,
    path: &str,
    body: &str,
    warmup: usize,
    samples: usize,
) -> Result<Ttft, String> {
    let timeout = Duration::from_secs(10);
    let mut connection = None;
    let mut times = Vec::with_capacity(samples);
    for i in 0..warmup + samples {
        let conn = match &mut connection {
            Some(conn) if Connection::reusable(conn) => conn,
            _ => connection.insert(
                Connection::open(addr, timeout)
                    .map_err(|e| format!("connecting to {addr}: {e}"))?,
            ),
        };
        let mut scan = FirstToken::default();
        let start = Instant::now();
        let status = conn
            .request("POST", path, body.as_bytes(), |bytes| {
                scan.feed(bytes, start)
            })
            .map_err(|e| format!("streaming request to {addr}{path}: {e}"))?;
        if status != 200 {
            return Err(format!(
                "streaming request to {addr}{path} answered {status}"
            ));
        }
        let first = scan
            .at
            .ok_or_else(|| format!("the stream from {addr}{path} held no content token"))?;
        if i >= warmup {
            times.push(first.as_secs_f64());
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(Ttft {
        p50: percentile(&times, 0.50),
        p99: percentile(&times, 0.99),
    })
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Scans a streamed body for the first content token and notes when it arrived.
#[derive(Default)]
struct FirstToken {
    line: Vec<u8>,
    at: Option<Duration>,
}

impl FirstToken {
    fn feed(&mut self, bytes: &[u8], start: Instant) {
        if self.at.is_some() {
            return;
        }
        let now = start.elapsed();
        self.line.extend_from_slice(bytes);
        while let Some(end) = self.line.iter().position(|&b| b == b'\n') {
            let found = is_token(&self.line[..end]);
            self.line.drain(..=end);
            if found {
                self.at = Some(now);
                self.line.clear();
                return;
            }
        }
    }
}

/// Whether an SSE line is `data: {chunk}` with non-empty delta content.
fn is_token(line: &[u8]) -> bool {
    let Some(data) = line.strip_prefix(b"data:") else {
        return false;
    };
    let Ok(chunk) = serde_json::from_slice::<Value>(data.trim_ascii()) else {
        return false;
    };
    chunk["choices"][0]["delta"]["content"]
        .as_str()
        .is_some_and(|text| !text.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_token_is_the_first_event_with_non_empty_content() {
        let start = Instant::now();
        let mut scan = FirstToken::default();
        scan.feed(
            b"data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
            start,
        );
        assert!(scan.at.is_none(), "an empty content delta is not a token");
        // A line split across reads is joined before it is judged.
        scan.feed(b"data: {\"choices\":[{\"delta\":{\"con", start);
        assert!(scan.at.is_none());
        scan.feed(b"tent\":\"Fog\"}}]}\n\n", start);
        assert!(scan.at.is_some());
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.50), 50.0);
        assert_eq!(percentile(&values, 0.99), 99.0);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }
}
