//! A loopback proxy to the broker, for tests that lose connections: it
//! forwards every connection made to its port (reconnects included), can
//! hold back what the broker sends, and can cut every connection open
//! through it.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The proxy; it lives as long as the test binary.
pub(crate) struct Proxy {
    pub(crate) port: u16,
    /// While set, what the broker sends is dropped, and `held` told.
    pub(crate) hold: Arc<AtomicBool>,
    /// The sockets of the connections open through it, to cut them.
    sockets: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    /// A proxy to the broker's `broker_port`; `held` hears of each read
    /// dropped while `hold` is set.
    pub(crate) fn start(broker_port: u16, held: weft::sync::mpsc::UnboundedSender<()>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hold = Arc::new(AtomicBool::new(false));
        let sockets = Arc::new(Mutex::new(Vec::new()));
        let (hold2, sockets2) = (hold.clone(), sockets.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(server) = TcpStream::connect(("127.0.0.1", broker_port)) else {
                    // The broker is down: the client sees the door shut.
                    continue;
                };
                sockets2
                    .lock()
                    .unwrap()
                    .extend([client.try_clone().unwrap(), server.try_clone().unwrap()]);
                let (mut client_in, mut server_out) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || pump(&mut client_in, &mut server_out, None));
                let (hold, held) = (hold2.clone(), held.clone());
                let (mut server_in, mut client_out) = (server, client);
                std::thread::spawn(move || pump(&mut server_in, &mut client_out, Some((&hold, &held))));
            }
        });
        Proxy { port, hold, sockets }
    }

    /// The URI of the broker's default user through the proxy.
    pub(crate) fn uri(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    /// Cuts every connection open through the proxy; later ones go
    /// through.
    pub(crate) fn cut(&self) {
        for socket in self.sockets.lock().unwrap().drain(..) {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }
}

/// Copies `from` into `to` until either closes; with `hold`, drops what
/// arrives while it is set, and says so.
fn pump(
    from: &mut TcpStream,
    to: &mut TcpStream,
    hold: Option<(&AtomicBool, &weft::sync::mpsc::UnboundedSender<()>)>,
) {
    let mut buf = [0; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some((hold, held)) = hold
            && hold.load(Ordering::SeqCst)
        {
            let _ = held.send(());
            continue;
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Both);
}
