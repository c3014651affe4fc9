//! Turning `async fn` into a plain `fn` that builds a weft runtime and blocks
//! on the body.
//!
//! The expansion, for `#[weft::main(flavor = "current_thread")] async fn
//! main() -> T { body }`, is:
//!
//! ```text
//! fn main() -> T {
//!     let body = async { body };
//!     let body = ::core::pin::pin!(body);
//!     let body: Pin<&mut dyn Future<Output = T>> = body;
//!     let runtime = ::weft::Builder::new_current_thread().build().expect(…);
//!     runtime.block_on(body)
//! }
//! ```
//!
//! Naming the output type on the pinned future fixes the async block's type
//! at once, so `?` in the body converts errors into the declared return type.
//! When the function or the options are wrong, the expansion still emits
//! something that compiles (the function with the default options, or an
//! empty stand-in), so the user sees only the macro's own error.

use crate::config::{self, Config, Errors, Flavor, Kind};
use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{ItemFn, ReturnType};

/// Expands `#[weft::main]` or `#[weft::test]` on `item`.
pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let input: ItemFn = match syn::parse2(item.clone()) {
        Ok(input) => input,
        Err(e) => {
            // Not a function: say so, and leave the item as it was.
            let message = format!("`#[weft::{}]` goes on an `async fn`: {e}", kind.name());
            let mut out = syn::Error::new(e.span(), message).to_compile_error();
            out.extend(item);
            return out;
        }
    };

    let mut errors = Errors::default();
    if let Some(e) = check_signature(kind, &input) {
        errors.push(e);
        if let Err(e) = config::parse(kind, args) {
            errors.push(e);
        }
        let mut out = errors
            .finish()
            .err()
            .map(|e| e.to_compile_error())
            .unwrap_or_default();
        out.extend(stand_in(&input));
        return out;
    }

    let config = match config::parse(kind, args) {
        Ok(config) => config,
        Err(e) => {
            errors.push(e);
            Config::default_for(kind)
        }
    };
    let mut out = errors
        .finish()
        .err()
        .map(|e| e.to_compile_error())
        .unwrap_or_default();
    out.extend(generate(kind, &config, input));
    out
}

/// The function must be `async` and take no arguments; a test must not also
/// carry `#[test]`.
fn check_signature(kind: Kind, input: &ItemFn) -> Option<syn::Error> {
    let mut errors = Errors::default();
    let sig = &input.sig;
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new(
            sig.fn_token.span,
            format!(
                "`#[weft::{}]` needs an `async fn`: the `async` keyword is missing from the function declaration",
                kind.name()
            ),
        ));
    }
    if !sig.inputs.is_empty() {
        let what = match kind {
            Kind::Main => "the main function",
            Kind::Test => "a test function",
        };
        errors.push(syn::Error::new_spanned(
            &sig.inputs,
            format!("{what} cannot take arguments"),
        ));
    }
    if kind == Kind::Test {
        for attr in &input.attrs {
            if attr.path().is_ident("test") {
                errors.push(syn::Error::new_spanned(
                    attr,
                    "a second test attribute: `#[weft::test]` already makes this a test, so remove `#[test]`",
                ));
            }
        }
    }
    errors.finish().err()
}

/// A plain function under the same name, emitted beside an error about the
/// signature so that nothing else fails for its lack.
fn stand_in(input: &ItemFn) -> TokenStream {
    let vis = &input.vis;
    let name = &input.sig.ident;
    let output = &input.sig.output;
    quote! {
        #[allow(dead_code)]
        #vis fn #name() #output {
            ::core::unreachable!()
        }
    }
}

fn generate(kind: Kind, config: &Config, input: ItemFn) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = input;
    sig.asyncness = None;
    let output = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => ty.to_token_stream(),
    };
    let krate = &config.crate_path;
    let mut builder = match config.flavor {
        Flavor::CurrentThread => quote!(#krate::Builder::new_current_thread()),
        Flavor::MultiThread => quote!(#krate::Builder::new_multi_thread()),
    };
    if let Some(n) = &config.worker_threads {
        builder.extend(quote!(.worker_threads(#n)));
    }
    if config.start_paused {
        builder.extend(quote!(.start_paused(true)));
    }
    let test_attr = match kind {
        Kind::Main => quote!(),
        Kind::Test => quote!(#[::core::prelude::v1::test]),
    };
    quote! {
        #test_attr
        #(#attrs)*
        #vis #sig {
            let body = async #block;
            let body = ::core::pin::pin!(body);
            let body: ::core::pin::Pin<&mut dyn ::core::future::Future<Output = #output>> = body;
            let runtime = #builder.build().expect("failed to build the weft runtime");
            runtime.block_on(body)
        }
    }
}
