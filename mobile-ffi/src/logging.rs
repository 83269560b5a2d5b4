//! Forwards the library's `tracing` events to the app's logger (Logcat, os_log, Python logging).
//!
//! A minimal `tracing` subscriber: no spans, one level filter that the app can change at any
//! time. Events carry step names, ids and counts only (the workspace invariant: no personal
//! data in logs). The `log` crate records of network libraries are not forwarded: they can hold
//! addresses with tokens.

use std::cell::Cell;
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock, RwLock};

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata};

/// How much to log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl From<LogLevel> for LevelFilter {
    fn from(level: LogLevel) -> Self {
        match level {
            LogLevel::Error => LevelFilter::ERROR,
            LogLevel::Warn => LevelFilter::WARN,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Debug => LevelFilter::DEBUG,
            LogLevel::Trace => LevelFilter::TRACE,
        }
    }
}

fn level_of(level: &tracing::Level) -> LogLevel {
    match *level {
        tracing::Level::ERROR => LogLevel::Error,
        tracing::Level::WARN => LogLevel::Warn,
        tracing::Level::INFO => LogLevel::Info,
        tracing::Level::DEBUG => LogLevel::Debug,
        _ => LogLevel::Trace,
    }
}

/// Implemented by the app: receives the library's log lines. It may be called while the library
/// holds a handle's lock, so it must only log, never call back into `Peerlog`.
#[uniffi::export(callback_interface)]
pub trait Logger: Send + Sync {
    /// One log line: `target` is the Rust module (`peerlog_ffi::device`), `message` the text
    /// with its fields (`sync finished sent=4 received=6`).
    fn log(&self, level: LogLevel, target: String, message: String);
}

type Sink = Option<(Arc<dyn Logger>, LevelFilter)>;

fn sink() -> &'static RwLock<Sink> {
    static SINK: OnceLock<RwLock<Sink>> = OnceLock::new();
    SINK.get_or_init(|| RwLock::new(None))
}

/// Sends the library's logs at `max_level` and above to `logger` (`None` stops logging).
/// The first call installs the forwarding subscriber process-wide; later calls swap the logger.
#[uniffi::export]
pub fn set_logger(logger: Option<Box<dyn Logger>>, max_level: LogLevel) {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    *sink().write().unwrap_or_else(|p| p.into_inner()) =
        logger.map(|l| (Arc::from(l), LevelFilter::from(max_level)));
    INSTALLED.get_or_init(|| tracing::subscriber::set_global_default(Forward).is_ok());
}

thread_local! {
    /// Set while a log line is handed to the app, so a logger that calls back into the library
    /// cannot recurse.
    static FORWARDING: Cell<bool> = const { Cell::new(false) };
}

/// The subscriber: filters by the current level and hands each event to the app's logger.
#[derive(Debug)]
struct Forward;

impl tracing::Subscriber for Forward {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        // The level can change at run time: ask `enabled` every time.
        Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        match &*sink().read().unwrap_or_else(|p| p.into_inner()) {
            Some((_, max)) => *max >= *metadata.level(),
            None => false,
        }
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        if FORWARDING.with(Cell::get) {
            return;
        }
        let Some((logger, _)) = sink().read().unwrap_or_else(|p| p.into_inner()).clone() else {
            return;
        };
        let mut text = Text::default();
        event.record(&mut text);
        let meta = event.metadata();
        FORWARDING.with(|f| f.set(true));
        // A logger that throws must not take the library down with it.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            logger.log(level_of(meta.level()), meta.target().to_owned(), text.0);
        }));
        FORWARDING.with(|f| f.set(false));
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// An event's message followed by its other fields as `name=value`.
#[derive(Debug, Default)]
struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let rest = std::mem::take(&mut self.0);
            let _ = write!(self.0, "{value:?}");
            if !rest.is_empty() {
                self.0.push(' ');
                self.0.push_str(&rest);
            }
        } else {
            if !self.0.is_empty() {
                self.0.push(' ');
            }
            let _ = write!(self.0, "{}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.record_debug(field, &format_args!("{value}"));
    }
}
