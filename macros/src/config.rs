//! The macros' options: parsing `flavor = "…"`, `worker_threads = N`,
//! `start_paused = true` and `crate = "…"`, and checking they fit together.
//!
//! Every error is spanned on the token that caused it, and parsing goes on
//! past the first one, so a user sees every mistake in one build.

use proc_macro2::Span;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Lit, Meta, Token};

/// Which macro is expanding: it sets the default flavour and the wording.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Main,
    Test,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Main => "main",
            Kind::Test => "test",
        }
    }
}

/// The runtime's scheduler.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    CurrentThread,
    MultiThread,
}

/// The checked options of one macro use.
pub(crate) struct Config {
    pub(crate) flavor: Flavor,
    pub(crate) worker_threads: Option<syn::LitInt>,
    pub(crate) start_paused: bool,
    pub(crate) crate_path: syn::Path,
}

impl Config {
    /// The options a bare `#[weft::main]` / `#[weft::test]` has: tokio's
    /// defaults (multi-thread for `main`, current-thread for `test`).
    pub(crate) fn default_for(kind: Kind) -> Config {
        Config {
            flavor: match kind {
                Kind::Main => Flavor::MultiThread,
                Kind::Test => Flavor::CurrentThread,
            },
            worker_threads: None,
            start_paused: false,
            crate_path: syn::parse_quote!(::weft),
        }
    }
}

const OPTIONS: &str = "`flavor`, `worker_threads`, `start_paused`, `crate`";

/// Parses the attribute's arguments into a [`Config`], or every error found.
pub(crate) fn parse(kind: Kind, args: proc_macro2::TokenStream) -> Result<Config, syn::Error> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
    let mut errors = Errors::default();
    let mut config = Config::default_for(kind);
    let mut flavor: Option<(Flavor, Span)> = None;
    let mut worker_threads = None;
    let mut start_paused = None;
    let mut crate_path = None;

    for meta in metas {
        let Some(name) = meta.path().get_ident().map(ToString::to_string) else {
            errors.push(syn::Error::new_spanned(
                meta.path(),
                format!("unknown option; expected one of {OPTIONS}"),
            ));
            continue;
        };
        let value = match &meta {
            Meta::NameValue(nv) => &nv.value,
            _ if is_known(&name) => {
                errors.push(syn::Error::new_spanned(
                    &meta,
                    format!("`{name}` takes a value, as in `{}`", example(&name)),
                ));
                continue;
            }
            _ => {
                errors.push(unknown(&meta, &name));
                continue;
            }
        };
        let first = match name.as_str() {
            "flavor" => match str_lit(value) {
                Some(lit) => match lit.value().as_str() {
                    "current_thread" => set(&mut flavor, (Flavor::CurrentThread, meta.span())),
                    "multi_thread" => set(&mut flavor, (Flavor::MultiThread, meta.span())),
                    other => {
                        errors.push(syn::Error::new_spanned(
                            lit,
                            format!(
                                "unknown runtime flavor `{other}`; expected `current_thread` or `multi_thread`"
                            ),
                        ));
                        true
                    }
                },
                None => errors.wrong_type(value, &name),
            },
            "worker_threads" => match int_lit(value) {
                Some(lit) => match lit.base10_parse::<usize>() {
                    Ok(0) => {
                        errors.push(syn::Error::new_spanned(
                            lit,
                            "`worker_threads` may not be 0: a runtime needs at least one worker thread",
                        ));
                        true
                    }
                    Ok(_) => set(&mut worker_threads, lit.clone()),
                    Err(e) => {
                        errors.push(e);
                        true
                    }
                },
                None => errors.wrong_type(value, &name),
            },
            "start_paused" => match bool_lit(value) {
                Some(lit) => set(&mut start_paused, lit.value),
                None => errors.wrong_type(value, &name),
            },
            "crate" => match str_lit(value) {
                Some(lit) => match lit.parse::<syn::Path>() {
                    Ok(path) => set(&mut crate_path, path),
                    Err(_) => {
                        errors.push(syn::Error::new_spanned(
                            lit,
                            format!("`{}` is not a path to the weft crate", lit.value()),
                        ));
                        true
                    }
                },
                None => errors.wrong_type(value, &name),
            },
            _ => {
                errors.push(unknown(&meta, &name));
                true
            }
        };
        if !first {
            errors.push(syn::Error::new_spanned(
                meta.path(),
                format!("`{name}` is set more than once"),
            ));
        }
    }

    if let Some((flavor, _)) = flavor {
        config.flavor = flavor;
    }
    if let Some(lit) = &worker_threads
        && config.flavor == Flavor::CurrentThread
    {
        let hint = match flavor {
            Some(_) => "",
            None => " (the default for `#[weft::test]`)",
        };
        errors.push(syn::Error::new_spanned(
            lit,
            format!(
                "`worker_threads` needs the multi-thread runtime, but this one is `current_thread`{hint}; \
                 add `flavor = \"multi_thread\"` or remove `worker_threads`"
            ),
        ));
    }
    config.worker_threads = worker_threads;
    config.start_paused = start_paused.unwrap_or(false);
    if let Some(path) = crate_path {
        config.crate_path = path;
    }
    errors.finish()?;
    Ok(config)
}

/// Stores `value` unless one is there; returns whether it was the first.
fn set<T>(slot: &mut Option<T>, value: T) -> bool {
    let first = slot.is_none();
    if first {
        *slot = Some(value);
    }
    first
}

fn is_known(name: &str) -> bool {
    matches!(name, "flavor" | "worker_threads" | "start_paused" | "crate")
}

fn example(name: &str) -> &'static str {
    match name {
        "flavor" => "flavor = \"current_thread\"",
        "worker_threads" => "worker_threads = 4",
        "start_paused" => "start_paused = true",
        _ => "crate = \"my_weft\"",
    }
}

fn kind_of_value(name: &str) -> &'static str {
    match name {
        "worker_threads" => "an integer",
        "start_paused" => "`true` or `false`",
        _ => "a string",
    }
}

fn unknown(meta: &Meta, name: &str) -> syn::Error {
    syn::Error::new_spanned(
        meta.path(),
        format!("unknown option `{name}`; expected one of {OPTIONS}"),
    )
}

fn lit(value: &Expr) -> Option<&Lit> {
    match value {
        Expr::Lit(expr) => Some(&expr.lit),
        Expr::Group(group) => lit(&group.expr),
        _ => None,
    }
}

fn str_lit(value: &Expr) -> Option<&syn::LitStr> {
    match lit(value)? {
        Lit::Str(lit) => Some(lit),
        _ => None,
    }
}

fn int_lit(value: &Expr) -> Option<&syn::LitInt> {
    match lit(value)? {
        Lit::Int(lit) => Some(lit),
        _ => None,
    }
}

fn bool_lit(value: &Expr) -> Option<&syn::LitBool> {
    match lit(value)? {
        Lit::Bool(lit) => Some(lit),
        _ => None,
    }
}

/// Errors gathered while parsing, combined into one at the end.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// Records that `value` has the wrong type for option `name`; returns
    /// `true` so the caller does not also report a repeat.
    fn wrong_type(&mut self, value: &Expr, name: &str) -> bool {
        self.push(syn::Error::new_spanned(
            value,
            format!(
                "`{name}` takes {}, as in `{}`",
                kind_of_value(name),
                example(name)
            ),
        ));
        true
    }

    pub(crate) fn finish(self) -> Result<(), syn::Error> {
        match self.0 {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}
