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

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}
