//! The sign-up handler, five times: callbacks, promises, async/await, a
//! work queue, an event bus. Each acknowledges the sign-up (`ack`), then
//! validates and stores it, has the mail service send a confirmation and
//! the analytics service record it, and reports each outcome to the tally.
//!
//! The code between each `style:…:start` and `style:…:end` marker is that
//! style's handler; the table counts its lines.

use super::services::{CallbackClient, ServiceError};
use super::{Env, Signup};
use std::sync::Arc;
use std::time::Duration;
use weft::callback::set_timeout;
use weft::events::{EventBus, RecvError, StartAt};
use weft::promise::Promise;
use weft::queue::{Consumer, Producer, Queue};

// ANCHOR: style-trait
/// What the HTTP server calls `ack` with: the answer goes out then.
pub(crate) type Ack = Box<dyn FnOnce() + Send>;

/// One way of writing the handler.
pub(crate) trait Style: Send + Sync {
    /// Takes a sign-up; calls `ack` once it is accepted and does the rest
    /// in the background.
    fn accept(&self, signup: Signup, ack: Ack);

    /// Stops the style's background workers, if it has any.
    fn shutdown(&self) {}
}
// ANCHOR_END: style-trait

/// How many workers the queue and the bus run per service.
const WORKERS: usize = 64;

// style:callbacks:start
// ANCHOR: callbacks
pub(crate) struct Callbacks(pub Arc<Env>);

impl Style for Callbacks {
    fn accept(&self, signup: Signup, ack: Ack) {
        ack();
        let env = self.0.clone();
        set_timeout(Duration::ZERO, move || {
            if env.store.save(&signup).is_err() {
                return env.tally.both_failed();
            }
            let on_sent = env.clone();
            env.mail_cb.call(signup.id, &signup.email, move |sent| {
                on_sent.tally.mail(sent.is_ok())
            });
            let on_tracked = env.clone();
            env.analytics_cb.call(signup.id, "signup", move |tracked| {
                on_tracked.tally.track(tracked.is_ok())
            });
        });
    }
}
// ANCHOR_END: callbacks
// style:callbacks:end

// style:promises:start
// ANCHOR: promises
pub(crate) struct Promises(pub Arc<Env>);

fn ask(client: &Arc<CallbackClient>, id: u64, argument: &str) -> Promise<(), ServiceError> {
    let (client, argument) = (client.clone(), argument.to_owned());
    Promise::from_callback(move |done| client.call(id, &argument, done))
}

impl Style for Promises {
    fn accept(&self, signup: Signup, ack: Ack) {
        ack();
        let env = self.0.clone();
        let store = env.clone();
        let saved = Promise::resolve(signup).then(move |s| store.store.save(&s).map(|()| s));
        let (mailer, tracker) = (env.mail_cb.clone(), env.analytics_cb.clone());
        let sent = saved.clone().then(move |s| ask(&mailer, s.id, &s.email));
        let tracked = saved.then(move |s| ask(&tracker, s.id, "signup"));
        sent.on_settled({
            let env = env.clone();
            move |outcome| env.tally.mail(outcome.is_ok())
        });
        tracked.on_settled(move |outcome| env.tally.track(outcome.is_ok()));
    }
}
// ANCHOR_END: promises
// style:promises:end

// style:async:start
// ANCHOR: async
pub(crate) struct AsyncAwait(pub Arc<Env>);

impl Style for AsyncAwait {
    fn accept(&self, signup: Signup, ack: Ack) {
        ack();
        let env = self.0.clone();
        drop(weft::spawn(async move {
            if env.store.save(&signup).is_err() {
                return env.tally.both_failed();
            }
            let tracking = weft::spawn({
                let env = env.clone();
                async move { env.analytics.call(signup.id, "signup").await }
            });
            let sent = env.mail.call(signup.id, &signup.email).await;
            env.tally.mail(sent.is_ok());
            env.tally.track(matches!(tracking.await, Ok(Ok(()))));
        }));
    }
}
// ANCHOR_END: async
// style:async:end

// style:queue:start
// ANCHOR: queue-setup
pub(crate) struct Queued {
    env: Arc<Env>,
    queues: [Queue<Signup>; 2],
    producers: [Producer<Signup>; 2],
}

impl Queued {
    pub(crate) fn start(env: Arc<Env>, capacity: usize) -> Queued {
        let queue = || Queue::builder().capacity(capacity).max_deliveries(1_000).build();
        let queues = [queue(), queue()];
        for _ in 0..WORKERS {
            drop(weft::spawn(work(queues[0].consumer(), env.clone(), true)));
            drop(weft::spawn(work(queues[1].consumer(), env.clone(), false)));
        }
        let producers = [queues[0].producer(), queues[1].producer()];
        Queued {
            env,
            queues,
            producers,
        }
    }
}
// ANCHOR_END: queue-setup

// ANCHOR: queue-worker
/// One consumer: ack what worked; what failed goes back after a pause.
async fn work(mut consumer: Consumer<Signup>, env: Arc<Env>, mail: bool) {
    while let Ok(job) = consumer.recv().await {
        if env.perform(mail, &job).await.is_ok() && job.ack().is_ok() {
            env.tally.job_done(mail);
        } else {
            weft::time::sleep(env.retry_after).await;
        }
    }
}
// ANCHOR_END: queue-worker

// ANCHOR: queue-accept
impl Style for Queued {
    fn accept(&self, signup: Signup, ack: Ack) {
        let (env, producers) = (self.env.clone(), self.producers.clone());
        drop(weft::spawn(async move {
            if env.store.save(&signup).is_err() {
                ack();
                return env.tally.both_failed();
            }
            let [mail, track] = producers;
            let queued = mail.publish(signup.clone()).await.is_ok() && track.publish(signup).await.is_ok();
            assert!(queued, "the queues close only after the run");
            ack();
        }));
    }

    fn shutdown(&self) {
        self.queues.iter().for_each(Queue::close);
    }
}
// ANCHOR_END: queue-accept
// style:queue:end

// style:bus:start
// ANCHOR: bus-setup
pub(crate) struct Bus {
    env: Arc<Env>,
    bus: EventBus<Signup>,
}

impl Bus {
    pub(crate) fn start(env: Arc<Env>, retention: usize) -> Bus {
        let bus: EventBus<Signup> = EventBus::builder().retention(retention).build();
        for (group, mail) in [("mailer", true), ("analytics", false)] {
            for _ in 0..WORKERS {
                let mut member = bus.join(group, "user.registered", StartAt::Latest).unwrap();
                let env = env.clone();
                drop(weft::spawn(async move {
                    loop {
                        let event = match member.recv().await {
                            Ok(event) => event,
                            Err(RecvError::Closed) => break,
                            Err(lagged) => panic!("retention holds the whole run: {lagged}"),
                        };
                        if env.perform(mail, &event).await.is_ok() && event.ack().is_ok() {
                            env.tally.job_done(mail);
                        } else {
                            weft::time::sleep(env.retry_after).await;
                        }
                    }
                }));
            }
        }
        Bus { env, bus }
    }
}
// ANCHOR_END: bus-setup

// ANCHOR: bus-accept
impl Style for Bus {
    fn accept(&self, signup: Signup, ack: Ack) {
        if self.env.store.save(&signup).is_err() {
            ack();
            return self.env.tally.both_failed();
        }
        self.bus
            .try_publish("user.registered", signup)
            .expect("the bus closes only after the run");
        ack();
    }

    fn shutdown(&self) {
        self.bus.close();
    }
}
// ANCHOR_END: bus-accept
// style:bus:end

/// The handler's lines in each style: lines between its markers that are
/// neither blank nor comments.
pub(crate) fn lines_of_code(style: &str) -> usize {
    let source = include_str!("styles.rs");
    let start = format!("// style:{style}:start");
    let end = format!("// style:{style}:end");
    source
        .lines()
        .skip_while(|line| line.trim() != start)
        .skip(1)
        .take_while(|line| line.trim() != end)
        .filter(|line| {
            let line = line.trim();
            !line.is_empty() && !line.starts_with("//")
        })
        .count()
}
