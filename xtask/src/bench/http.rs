//! A minimal blocking HTTP/1.1 client over one keep-alive TCP connection.
//!
//! Just enough for readiness probes and time-to-first-token samples: it writes a request,
//! reads the head, and hands each piece of the (de-chunked) body to a callback the moment
//! it arrives, so the caller can timestamp it. No TLS, no redirects, no pipelining.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// One HTTP/1.1 connection.
pub struct Connection {
    stream: TcpStream,
    /// Bytes read but not yet consumed.
    buf: Vec<u8>,
    /// Start of the unconsumed bytes in `buf`.
    pos: usize,
    /// The server said `Connection: close` or ended the body with EOF.
    closed: bool,
}

impl Connection {
    /// Connects with `TCP_NODELAY` and a read timeout.
    pub fn open(addr: SocketAddr, timeout: Duration) -> io::Result<Self> {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        Ok(Self {
            stream,
            buf: Vec::with_capacity(16 * 1024),
            pos: 0,
            closed: false,
        })
    }

    /// Whether the connection can carry another request.
    pub fn reusable(&self) -> bool {
        !self.closed
    }

    /// Sends one request and reads the whole response, calling `on_body` with each piece
    /// of the body as it arrives. Returns the status code.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
        mut on_body: impl FnMut(&[u8]),
    ) -> io::Result<u16> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: tollgate-xtask-bench\r\nAccept: */*\r\n"
        );
        if !body.is_empty() || method == "POST" {
            head.push_str("Content-Type: application/json\r\n");
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        self.stream.write_all(&request)?;

        let (status, framing) = self.read_head()?;
        match framing {
            Framing::Length(n) => self.read_exact_body(n, &mut on_body)?,
            Framing::Chunked => self.read_chunked_body(&mut on_body)?,
            Framing::UntilClose => {
                self.read_until_close(&mut on_body)?;
                self.closed = true;
            }
        }
        Ok(status)
    }

    /// Reads more bytes into the buffer; an error at EOF.
    fn fill(&mut self) -> io::Result<()> {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk)?;
        if n == 0 {
            self.closed = true;
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    fn pending(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// Reads up to and including the next CRLF; returns the line without it.
    fn read_line(&mut self) -> io::Result<String> {
        loop {
            if let Some(end) = find(self.pending(), b"\r\n") {
                let line = String::from_utf8_lossy(&self.pending()[..end]).into_owned();
                self.pos += end + 2;
                return Ok(line);
            }
            self.fill()?;
        }
    }

    fn read_head(&mut self) -> io::Result<(u16, Framing)> {
        let status_line = self.read_line()?;
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| invalid(format!("bad status line {status_line:?}")))?;
        let mut length = None;
        let mut chunked = false;
        loop {
            let line = self.read_line()?;
            if line.is_empty() {
                break;
            }
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(
                    value
                        .parse()
                        .map_err(|_| invalid(format!("bad content-length {value:?}")))?,
                );
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close")
            {
                self.closed = true;
            }
        }
        let framing = if chunked {
            Framing::Chunked
        } else if let Some(n) = length {
            Framing::Length(n)
        } else if (100..200).contains(&status) || status == 204 || status == 304 {
            Framing::Length(0)
        } else {
            Framing::UntilClose
        };
        Ok((status, framing))
    }

    fn read_exact_body(
        &mut self,
        mut left: usize,
        on_body: &mut impl FnMut(&[u8]),
    ) -> io::Result<()> {
        while left > 0 {
            if self.pending().is_empty() {
                self.fill()?;
            }
            let take = left.min(self.pending().len());
            on_body(&self.buf[self.pos..self.pos + take]);
            self.pos += take;
            left -= take;
        }
        Ok(())
    }

    fn read_chunked_body(&mut self, on_body: &mut impl FnMut(&[u8])) -> io::Result<()> {
        loop {
            let size_line = self.read_line()?;
            let size_text = size_line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_text, 16)
                .map_err(|_| invalid(format!("bad chunk size {size_line:?}")))?;
            if size == 0 {
                // Trailers, then the empty line.
                while !self.read_line()?.is_empty() {}
                return Ok(());
            }
            self.read_exact_body(size, on_body)?;
            let end = self.read_line()?;
            if !end.is_empty() {
                return Err(invalid("a chunk did not end with CRLF".to_owned()));
            }
        }
    }

    fn read_until_close(&mut self, on_body: &mut impl FnMut(&[u8])) -> io::Result<()> {
        loop {
            if !self.pending().is_empty() {
                on_body(self.pending());
                self.pos = self.buf.len();
            }
            match self.fill() {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }
}

/// How the response body ends.
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::thread;

    use super::*;

    /// Serves `responses` in order on one connection, each after reading one request head.
    fn serve(responses: Vec<&'static [u8]>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            for response in responses {
                let mut seen = Vec::new();
                let mut byte = [0u8; 1];
                while !seen.ends_with(b"\r\n\r\n") {
                    socket.read_exact(&mut byte).unwrap();
                    seen.push(byte[0]);
                }
                socket.write_all(response).unwrap();
            }
        });
        addr
    }

    #[test]
    fn chunked_and_sized_bodies_are_decoded_and_the_connection_is_reused() {
        let addr = serve(vec![
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n",
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy",
        ]);
        let mut conn = Connection::open(addr, Duration::from_secs(5)).unwrap();
        let mut body = Vec::new();
        let status = conn
            .request("GET", "/", b"", |b| body.extend_from_slice(b))
            .unwrap();
        assert_eq!((status, body.as_slice()), (200, &b"hello, world"[..]));
        assert!(conn.reusable());
        let mut body = Vec::new();
        let status = conn
            .request("POST", "/", b"{}", |b| body.extend_from_slice(b))
            .unwrap();
        assert_eq!((status, body.as_slice()), (503, &b"busy"[..]));
    }

    #[test]
    fn a_body_without_length_runs_to_the_end_of_the_connection() {
        let addr = serve(vec![
            b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it",
        ]);
        let mut conn = Connection::open(addr, Duration::from_secs(5)).unwrap();
        let mut body = Vec::new();
        let status = conn
            .request("GET", "/", b"", |b| body.extend_from_slice(b))
            .unwrap();
        assert_eq!((status, body.as_slice()), (200, &b"all of it"[..]));
        assert!(!conn.reusable());
    }
}
