//! A real `redis-server` for the cluster tests: on a free loopback port,
//! persistence off (`--save '' --appendonly no`) unless asked for, killed
//! when dropped; and
//! `redis-cli` to talk to it. `scripts/setup.sh` installs both.

use super::wsproc::free_port;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Redis {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
    /// `--requirepass`, if any.
    password: Option<String>,
    /// TLS only (`--port 0 --tls-port`): the certificate and key files.
    tls: Option<(PathBuf, PathBuf)>,
    /// `--appendonly yes --appendfsync always` (what it wrote survives a
    /// restart).
    persistent: bool,
}

impl Redis {
    /// Starts a server on a free port and waits (at most 10 s) until it
    /// answers PING.
    pub fn start() -> Redis {
        Redis::start_with_password(None)
    }

    /// [`Redis::start`] with `--requirepass password` when given.
    pub fn start_with_password(password: Option<&str>) -> Redis {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Redis {
            child: None,
            port: free_port(),
            dir,
            password: password.map(str::to_string),
            tls: None,
            persistent: false,
        };
        r.restart();
        r
    }

    /// A server that speaks only TLS, with a self-signed certificate for
    /// `localhost` ([`Redis::cert`] is the file to trust).
    pub fn start_tls() -> Redis {
        let dir = tempfile::tempdir().unwrap();
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert, ck.cert.pem()).unwrap();
        std::fs::write(&key, ck.key_pair.serialize_pem()).unwrap();
        let mut r = Redis {
            child: None,
            port: free_port(),
            dir,
            password: None,
            tls: Some((cert, key)),
            persistent: false,
        };
        r.restart();
        r
    }

    /// A server with persistence on (append-only file, fsync at every
    /// write): [`Redis::restart`] brings back what it had.
    pub fn start_persistent() -> Redis {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Redis {
            child: None,
            port: free_port(),
            dir,
            password: None,
            tls: None,
            persistent: true,
        };
        r.restart();
        r
    }

    /// The certificate of a [`Redis::start_tls`] server.
    pub fn cert(&self) -> &std::path::Path {
        &self.tls.as_ref().expect("a TLS server").0
    }

    /// `redis://127.0.0.1:PORT` (with the password, if any)
    pub fn url(&self) -> String {
        if self.tls.is_some() {
            return format!("rediss://localhost:{}", self.port);
        }
        match &self.password {
            Some(p) => format!("redis://:{p}@127.0.0.1:{}", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    /// Starts the server again on the same port (after [`Redis::kill`]);
    /// it comes back empty, as a restarted Redis without persistence does
    /// (or with what it had, [`Redis::start_persistent`]).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "redis-server is still running");
        let mut cmd = Command::new("redis-server");
        if let Some(p) = &self.password {
            cmd.args(["--requirepass", p]);
        }
        let port = self.port.to_string();
        match &self.tls {
            Some((cert, key)) => {
                cmd.args([
                    "--port",
                    "0",
                    "--tls-port",
                    &port,
                    "--tls-auth-clients",
                    "no",
                ]);
                cmd.arg("--tls-cert-file").arg(cert);
                cmd.arg("--tls-key-file").arg(key);
                cmd.arg("--tls-ca-cert-file").arg(cert);
            }
            None => {
                cmd.args(["--port", &port]);
            }
        }
        let aof: &[&str] = if self.persistent {
            &["--appendonly", "yes", "--appendfsync", "always"]
        } else {
            &["--appendonly", "no"]
        };
        let child = cmd
            .args(aof)
            .args([
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--dir",
                self.dir.path().to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot run redis-server (scripts/setup.sh installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.pings() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn pings(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        if self.tls.is_some() {
            // Listening is enough (no TLS client here).
            return true;
        }
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        // Any reply (+PONG, or -NOAUTH with a password) means it is up.
        let mut buf = [0u8; 1];
        s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok()
    }

    /// `kill -9` (no shutdown, no goodbye to clients).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// `redis-cli -p PORT args...`: its standard output, trimmed.
    pub fn cli(&self, args: &[&str]) -> String {
        let mut cmd = Command::new("redis-cli");
        cmd.args(["-p", &self.port.to_string()]);
        if let Some(p) = &self.password {
            cmd.args(["--no-auth-warning", "-a", p]);
        }
        if let Some((cert, _)) = &self.tls {
            cmd.args(["-h", "localhost", "--tls", "--cacert"]).arg(cert);
        }
        let out = cmd
            .args(args)
            .output()
            .expect("cannot run redis-cli (scripts/setup.sh installs it)");
        assert!(out.status.success(), "redis-cli {args:?} failed");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

/// A raw `PSUBSCRIBE` connection: what Redis pushes to a subscriber of a
/// pattern, channel and payload, read with a deadline.
pub struct Watch {
    r: std::io::BufReader<TcpStream>,
}

impl Redis {
    /// Subscribes to `pattern` (plain TCP, no password) and waits for
    /// Redis to confirm it.
    pub fn watch(&self, pattern: &str) -> Watch {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let cmd = format!(
            "*2\r\n$10\r\nPSUBSCRIBE\r\n${}\r\n{pattern}\r\n",
            pattern.len()
        );
        s.write_all(cmd.as_bytes()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut w = Watch {
            r: std::io::BufReader::new(s),
        };
        let confirm = w.frame().expect("PSUBSCRIBE confirmation");
        assert_eq!(confirm[0], b"psubscribe", "PSUBSCRIBE answered {confirm:?}");
        w
    }
}

impl Watch {
    fn line(&mut self) -> std::io::Result<String> {
        use std::io::BufRead;
        let mut l = String::new();
        if self.r.read_line(&mut l)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(l.trim_end().to_string())
    }

    /// One pushed array of bulk strings or integers (as their text).
    fn frame(&mut self) -> std::io::Result<Vec<Vec<u8>>> {
        let head = self.line()?;
        let n: usize = head
            .strip_prefix('*')
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("unexpected RESP {head:?}"));
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            let l = self.line()?;
            if let Some(len) = l.strip_prefix('$') {
                let mut b = vec![0; len.parse::<usize>().unwrap() + 2];
                self.r.read_exact(&mut b)?;
                b.truncate(b.len() - 2);
                items.push(b);
            } else {
                items.push(l.as_bytes()[1..].to_vec());
            }
        }
        Ok(items)
    }

    /// The next message published on a matching channel (channel,
    /// payload), or `None` when nothing came within `wait`.
    pub fn next(&mut self, wait: Duration) -> Option<(String, Vec<u8>)> {
        self.r.get_ref().set_read_timeout(Some(wait)).unwrap();
        match self.frame() {
            Ok(mut f) if f.len() == 4 && f[0] == b"pmessage" => {
                let payload = f.pop().unwrap();
                Some((String::from_utf8_lossy(&f[2]).into_owned(), payload))
            }
            Ok(f) => panic!("unexpected push {f:?}"),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                None
            }
            Err(e) => panic!("reading from Redis: {e}"),
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}
