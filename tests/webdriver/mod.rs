//! A tiny WebDriver client (W3C WebDriver over HTTP/1.1, on std's
//! blocking sockets) for driving headless Chromium through chromedriver
//! on loopback. Just what the browser tests need: start the driver, open
//! sessions, load a page, type, click, run a script, and wait for a
//! condition in the page with a deadline kept by the page itself.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long any one step may take before the test gives up.
const BOUND: Duration = Duration::from_secs(60);
/// How long a wait in the page may take, in milliseconds.
const WAIT_MS: u64 = 20_000;

/// Where to find the browser and its driver; `Err` says how to install
/// them. `CHROMIUM` and `CHROMEDRIVER` override the paths.
pub(crate) fn find_browser() -> Result<(PathBuf, PathBuf), String> {
    let find = |var: &str, names: &[&str]| -> Option<PathBuf> {
        if let Some(path) = std::env::var_os(var) {
            return Some(PathBuf::from(path)).filter(|path| path.is_file());
        }
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
            .find(|candidate| candidate.is_file())
    };
    match (
        find("CHROMIUM", &["chromium", "chromium-browser", "google-chrome"]),
        find("CHROMEDRIVER", &["chromedriver"]),
    ) {
        (Some(browser), Some(driver)) => Ok((browser, driver)),
        _ => Err("headless Chromium or chromedriver not found; install them with \
                  `apt-get install -y chromium chromium-driver` (Debian), or set CHROMIUM and CHROMEDRIVER"
            .into()),
    }
}

/// A running chromedriver, killed when dropped.
pub(crate) struct Driver {
    child: Child,
    addr: SocketAddr,
    browser: PathBuf,
}

impl Driver {
    /// Starts `driver` on a free loopback port and waits (bounded) for it
    /// to say it is ready.
    pub(crate) fn start(browser: PathBuf, driver: PathBuf) -> Driver {
        let mut child = Command::new(driver)
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let stdout = child.stdout.take().expect("a piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                // "ChromeDriver was started successfully on port 35267."
                if let Some((_, port)) = line.split_once("started successfully on port ") {
                    let _ = tx.send(port.trim_end_matches('.').parse::<u16>());
                }
            }
        });
        let port = match rx.recv_timeout(BOUND) {
            Ok(Ok(port)) => port,
            other => {
                let _ = child.kill();
                panic!("chromedriver did not say its port: {other:?}");
            }
        };
        Driver {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            browser,
        }
    }

    /// A new browser session: a headless Chromium of its own.
    pub(crate) fn session(&self) -> Session {
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": self.browser,
                    // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                             "--disable-dev-shm-usage", "--no-first-run"],
                },
            }},
        });
        let value = request(self.addr, "POST", "/session", Some(&capabilities))
            .unwrap_or_else(|e| panic!("no browser session: {e}"));
        let id = value["sessionId"].as_str().expect("a session id").to_owned();
        let session = Session { addr: self.addr, id };
        // The page's own waits end before this bound.
        session.post(
            "timeouts",
            json!({ "script": WAIT_MS + 10_000, "pageLoad": 30_000 }),
        );
        session
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser session; dropping it closes the browser.
pub(crate) struct Session {
    addr: SocketAddr,
    id: String,
}

/// What a wait saw in the chat page when it ended.
#[derive(Debug)]
pub(crate) struct Seen {
    /// The texts of the log's lines, in order.
    pub(crate) log: Vec<String>,
    /// The status line.
    pub(crate) status: String,
}

impl Session {
    fn post(&self, command: &str, body: Value) -> Value {
        let path = format!("/session/{}/{command}", self.id);
        request(self.addr, "POST", &path, Some(&body)).unwrap_or_else(|e| panic!("{command}: {e}"))
    }

    /// Loads `url` (returns once the page loaded).
    pub(crate) fn goto(&self, url: &str) {
        self.post("url", json!({ "url": url }));
    }

    /// The id of the element `css` selects.
    fn element(&self, css: &str) -> String {
        let found = self.post("element", json!({ "using": "css selector", "value": css }));
        // W3C's element key.
        found["element-6066-11e4-a52e-4f735466cecf"]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    /// Types `text` into the element `css` selects, key by key.
    pub(crate) fn type_into(&self, css: &str, text: &str) {
        let element = self.element(css);
        self.post(&format!("element/{element}/value"), json!({ "text": text }));
    }

    /// Empties the input `css` selects.
    pub(crate) fn clear(&self, css: &str) {
        let element = self.element(css);
        self.post(&format!("element/{element}/clear"), json!({}));
    }

    /// Clicks the element `css` selects.
    pub(crate) fn click(&self, css: &str) {
        let element = self.element(css);
        self.post(&format!("element/{element}/click"), json!({}));
    }

    /// Runs `script` (a function body) in the page and returns its value.
    pub(crate) fn script(&self, script: &str) -> Value {
        self.post("execute/sync", json!({ "script": script, "args": [] }))
    }

    /// Waits until `predicate` (a function body over `log`, the texts of
    /// the chat log's lines, and `status`, the status line) is true in the
    /// page, and returns what the page showed. The page polls; past
    /// [`WAIT_MS`] the wait fails the test, naming what the page showed.
    pub(crate) fn wait_for(&self, predicate: &str) -> Seen {
        const WAIT: &str = r##"
            const [predicate, deadline, done] = [new Function("log", "status", arguments[0]),
                Date.now() + arguments[1], arguments[arguments.length - 1]];
            const tick = () => {
                const log = [...document.querySelectorAll("#log li")].map((li) => li.textContent);
                const status = document.getElementById("status").textContent;
                const ok = Boolean(predicate(log, status));
                if (ok || Date.now() > deadline) done({ ok, log, status });
                else setTimeout(tick, 20);
            };
            tick();"##;
        let seen = self.post(
            "execute/async",
            json!({ "script": WAIT, "args": [predicate, WAIT_MS] }),
        );
        let texts = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
                .unwrap_or_default()
        };
        let state = Seen {
            log: texts(&seen["log"]),
            status: seen["status"].as_str().unwrap_or_default().to_owned(),
        };
        assert_eq!(
            seen["ok"],
            json!(true),
            "waited {WAIT_MS} ms for `{predicate}`; the page showed {state:?}"
        );
        state
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = request(self.addr, "DELETE", &format!("/session/{}", self.id), None);
    }
}

/// One WebDriver command: its `value`, or the driver's error as text.
fn request(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut stream = TcpStream::connect_timeout(&addr, BOUND).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(BOUND)).map_err(|e| e.to_string())?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()))
        .map_err(|e| e.to_string())?;
    // The head, then a body of Content-Length bytes (chromedriver may
    // keep the connection open whatever the request asks).
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Err("the driver closed mid-head".into());
        }
        if line == "\r\n" {
            break;
        }
        head.push_str(&line.to_ascii_lowercase());
    }
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|n| n.trim().parse::<usize>().ok());
    let body = match length {
        Some(length) => {
            let mut body = vec![0; length];
            reader.read_exact(&mut body).map_err(|e| e.to_string())?;
            body
        }
        None => {
            let mut body = Vec::new();
            reader.read_to_end(&mut body).map_err(|e| e.to_string())?;
            if head.contains("transfer-encoding: chunked") {
                body = unchunk(&body)?;
            }
            body
        }
    };
    let json: Value =
        serde_json::from_slice(&body).map_err(|e| format!("{e}: {}", String::from_utf8_lossy(&body)))?;
    let value = json["value"].clone();
    if head.starts_with("http/1.1 200") {
        Ok(value)
    } else {
        Err(format!("{method} {path}: {value}"))
    }
}

/// The body of a chunked message.
fn unchunk(mut bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let end = bytes
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("a chunk without a size")?;
        let size = std::str::from_utf8(&bytes[..end]).map_err(|e| e.to_string())?;
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|e| e.to_string())?;
        if size == 0 {
            return Ok(body);
        }
        let chunk = bytes.get(end + 2..end + 2 + size).ok_or("a chunk cut short")?;
        body.extend_from_slice(chunk);
        bytes = bytes.get(end + 4 + size..).ok_or("a chunk cut short")?;
    }
}
