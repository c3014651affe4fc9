//! The chat room of `web_chat`: the members' websockets joined through
//! the event bus, as in `examples/chat.rs`, with the page's protocol.
//!
//! Every frame is text. The page's first frame is the name it asks for;
//! each later frame is one message. The server answers in frames of
//! tab-separated fields, the last field free text (a name holds no tab:
//! it holds no control character at all):
//!
//! ```text
//! welcome <TAB> NAME            your name is NAME: you are in the room
//! join    <TAB> NAME            NAME came in
//! leave   <TAB> NAME            NAME went out
//! say     <TAB> NAME <TAB> TEXT NAME said TEXT
//! missed  <TAB> N               you fell behind: N events of the room were lost to you
//! error   <TAB> TEXT            what you sent was refused, and why
//! ```

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::protocol::CloseFrame;
use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::{self as ws, Message};
use futures::StreamExt;
use std::collections::HashSet;
use std::io;
use std::sync::{Arc, PoisonError};
use weft::events::{EventBus, RecvError, StartAt, Subscriber};
use weft::net::TcpStream;
use weft::sync::Mutex;

/// The longest name, in characters.
pub(crate) const MAX_NAME: usize = 32;
/// The longest message, in bytes: a longer one is refused with an
/// `error` frame and the member goes on.
pub(crate) const MAX_TEXT: usize = 2000;
/// The largest frame (and message) the server reads at all, in bytes: a
/// larger one closes the connection with code 1009 ("message too big").
pub(crate) const MAX_FRAME: usize = 16 * 1024;

/// What happened in the room.
#[derive(Debug, Clone)]
pub(crate) struct Said {
    /// The connection it came from: a member does not hear itself.
    pub(crate) conn: u64,
    pub(crate) from: String,
    pub(crate) text: String,
}

/// The room: the bus every member publishes to and hears from, and the
/// names in use.
#[derive(Debug, Clone)]
pub(crate) struct Room {
    pub(crate) bus: EventBus<Said>,
    names: Arc<std::sync::Mutex<HashSet<String>>>,
}

impl Room {
    /// A room whose bus keeps `retention` events for members that fall
    /// behind.
    pub(crate) fn new(retention: usize) -> Room {
        Room {
            bus: EventBus::builder().retention(retention).build(),
            names: Arc::default(),
        }
    }

    /// Takes `name` for one connection until the guard drops; `None` if
    /// another connection holds it (names differing only in case clash).
    fn take_name(&self, name: &str) -> Option<NameGuard> {
        let key = name.to_lowercase();
        let mut names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        names.insert(key.clone()).then(|| NameGuard {
            names: self.names.clone(),
            key,
        })
    }
}

/// A name held by one connection; dropping it frees the name.
#[derive(Debug)]
struct NameGuard {
    names: Arc<std::sync::Mutex<HashSet<String>>>,
    key: String,
}

impl Drop for NameGuard {
    fn drop(&mut self) {
        let mut names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        names.remove(&self.key);
    }
}

/// Checks a name the page asked for: trimmed, 1 to [`MAX_NAME`]
/// characters, no control character. The error is the reason, for an
/// `error` frame.
pub(crate) fn check_name(asked: &str) -> Result<&str, String> {
    let name = asked.trim();
    if name.is_empty() {
        return Err("a name needs at least one character".into());
    }
    if name.chars().count() > MAX_NAME {
        return Err(format!("a name is at most {MAX_NAME} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err("a name holds no control characters".into());
    }
    Ok(name)
}

/// The sending half of a member's websocket, shared by its relay and its
/// own answers; the lock keeps frames whole.
type Outbox = Arc<Mutex<async_tungstenite::WebSocketSender<TcpStream>>>;

/// Sends one text frame.
async fn send(out: &Outbox, frame: String) -> Result<(), ws::Error> {
    out.lock().await.send(Message::text(frame)).await
}

/// Connection `id` after the upgrade: its name, then its messages out to
/// the bus and the others' events back, until it closes.
pub(crate) async fn member(socket: WebSocketStream<TcpStream>, room: Room, id: u64) {
    let (out, mut frames) = socket.split();
    let out: Outbox = Arc::new(Mutex::new(out));
    let refuse = async |why: &str| send(&out, format!("error\t{why}")).await;
    // The name: asked for until one is free.
    let (name, held) = loop {
        let Some(asked) = next_text(&mut frames, &out).await else {
            return;
        };
        let refused = match check_name(&asked) {
            Ok(name) => match room.take_name(name) {
                Some(held) => break (name.to_owned(), held),
                None => format!("the name {name} is taken; choose another"),
            },
            Err(why) => why,
        };
        if refuse(&refused).await.is_err() {
            return;
        }
    };
    let said = |text: &str| Said {
        conn: id,
        from: name.clone(),
        text: text.to_owned(),
    };
    // ANCHOR: join
    // Subscribe before joining, so nothing said after the join is missed;
    // join before the welcome, so a member that comes in after the
    // welcome does not hear this one join.
    let events = room
        .bus
        .subscribe("chat.*", StartAt::Latest)
        .expect("a valid pattern");
    let _ = room.bus.publish("chat.join", said("")).await;
    if send(&out, format!("welcome\t{name}")).await.is_err() {
        let _ = room.bus.publish("chat.leave", said("")).await;
        return;
    }
    // The relay starts after the welcome: the welcome is the first frame.
    let to_me = out.clone();
    let writer = weft::spawn(relay(events, id, async move |frame| send(&to_me, frame).await));
    // ANCHOR_END: join
    while let Some(text) = next_text(&mut frames, &out).await {
        let refused = if text.trim().is_empty() {
            "an empty message was not sent".to_owned()
        } else if text.len() > MAX_TEXT {
            format!("a message is at most {MAX_TEXT} bytes; that one was not sent")
        } else {
            let _ = room.bus.publish("chat.message", said(&text)).await;
            continue;
        };
        if refuse(&refused).await.is_err() {
            break;
        }
    }
    // The name is free again before anyone hears that its holder left.
    drop(held);
    let _ = room.bus.publish("chat.leave", said("")).await;
    writer.abort();
}

/// The next text frame; `None` once the connection closed or failed. A
/// binary frame is refused with an `error` frame; a frame past
/// [`MAX_FRAME`] closes the connection with code 1009.
async fn next_text(
    frames: &mut async_tungstenite::WebSocketReceiver<TcpStream>,
    out: &Outbox,
) -> Option<String> {
    loop {
        match frames.next().await? {
            Ok(Message::Text(text)) => return Some(text.as_str().to_owned()),
            Ok(Message::Binary(_)) => {
                send(out, "error\tonly text frames are read here".into())
                    .await
                    .ok()?;
            }
            // Pings are answered by tungstenite; a close ends the stream.
            Ok(_) => {}
            Err(ws::Error::Capacity(_)) => {
                let close = CloseFrame {
                    code: CloseCode::Size,
                    reason: format!("a frame is at most {MAX_FRAME} bytes").into(),
                };
                let _ = out.lock().await.close(Some(close)).await;
                return None;
            }
            Err(_) => return None,
        }
    }
}

/// Hands `send` a frame for each event of the room not said by
/// connection `me`, until the bus closes or `send` fails. A member that
/// fell behind the bus's retention gets a `missed` frame with how many
/// events it lost, and goes on hearing the room.
pub(crate) async fn relay<E>(
    mut events: Subscriber<Said>,
    me: u64,
    mut send: impl AsyncFnMut(String) -> Result<(), E>,
) {
    loop {
        let frame = match events.recv().await {
            Ok(event) if event.conn == me => continue,
            Ok(event) => match event.topic() {
                "chat.join" => format!("join\t{}", event.from),
                "chat.leave" => format!("leave\t{}", event.from),
                _ => format!("say\t{}\t{}", event.from, event.text),
            },
            Err(RecvError::Lagged { skipped, .. }) => format!("missed\t{skipped}"),
            // Closed (the in-memory bus has no other error for a subscriber).
            Err(_) => break,
        };
        if send(frame).await.is_err() {
            break;
        }
    }
}

/// A websocket error as an `io::Error`, for the demo's clients.
pub(crate) fn io_error(e: ws::Error) -> io::Error {
    match e {
        ws::Error::Io(e) => e,
        other => io::Error::other(other.to_string()),
    }
}
