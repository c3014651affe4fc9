//! `all`, `race`, `any` and `all_settled`, with JavaScript's behaviour,
//! empty input included.

use super::state::Inner;
use super::{AggregateError, Promise, PromiseError};
use crate::loom::{Mutex, lock};
use crate::spawner::Spawner;
use std::sync::Arc;

/// The outcome of one promise given to [`Promise::all_settled`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled<T, E> {
    /// It was fulfilled with this value.
    Fulfilled(T),
    /// It was rejected with this reason.
    Rejected(E),
}

impl<T, E> From<Result<T, E>> for Settled<T, E> {
    fn from(outcome: Result<T, E>) -> Settled<T, E> {
        match outcome {
            Ok(value) => Settled::Fulfilled(value),
            Err(reason) => Settled::Rejected(reason),
        }
    }
}

// ANCHOR: gather
/// Gathers one result per input, in input order.
struct Gather<V> {
    slots: Vec<Option<V>>,
    remaining: usize,
}

impl<V> Gather<V> {
    fn new(n: usize) -> Arc<Mutex<Gather<V>>> {
        Arc::new(Mutex::new(Gather {
            slots: (0..n).map(|_| None).collect(),
            remaining: n,
        }))
    }

    /// Records input `index`; returns every value once the last is in.
    fn put(this: &Mutex<Gather<V>>, index: usize, value: V) -> Option<Vec<V>> {
        let mut gather = lock(this);
        if gather.slots[index].replace(value).is_none() {
            gather.remaining -= 1;
        }
        if gather.remaining > 0 {
            return None;
        }
        Some(std::mem::take(&mut gather.slots).into_iter().flatten().collect())
    }
}
// ANCHOR_END: gather

impl<T, E> Promise<T, E>
where
    T: Clone + Send + 'static,
    E: Clone + Send + 'static,
{
    /// A combinator's result promise: pending, or settled for empty input;
    /// on the current spawner, else the first input's.
    fn combined<U, E2>(inputs: &[Promise<T, E>], outcome: Option<Result<U, E2>>) -> Arc<Inner<U, E2>>
    where
        U: Clone + Send + 'static,
        E2: Clone + Send + 'static,
    {
        let spawner = Spawner::try_current()
            .ok()
            .or_else(|| inputs.first().and_then(|p| lock(&p.inner.state).spawner.clone()));
        Inner::new(spawner, outcome, None)
    }

    /// Fulfilled with every value, in input order, once all are fulfilled;
    /// rejected with the first rejection (JavaScript's `Promise.all`).
    /// Empty input gives an empty `Vec` at once.
    ///
    /// # Panics
    ///
    /// Panics if an input was made outside any spawner and this is called
    /// outside one too.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::promise::Promise;
    ///
    /// weft::block_on(async {
    ///     let parts = (1..=3).map(|n| Promise::<u32, String>::spawn(async move { Ok(n * 10) }));
    ///     assert_eq!(Promise::all(parts).await, Ok(vec![10, 20, 30]));
    /// });
    /// ```
    // ANCHOR: all
    #[track_caller]
    pub fn all(promises: impl IntoIterator<Item = Promise<T, E>>) -> Promise<Vec<T>, E> {
        Promise::fan_in(
            promises,
            Ok(Vec::new()),
            |result, gather, index, outcome| match outcome {
                Ok(value) => {
                    if let Some(values) = Gather::put(gather, index, value) {
                        result.settle(Ok(values));
                    }
                }
                Err(reason) => result.settle(Err(reason)),
            },
        )
    }

    /// What `all`, `any` and `all_settled` share: the result promise,
    /// settled with `empty` at once for empty input; otherwise one reaction
    /// per input, which hands `on` the result, the gathered slots, the
    /// input's index and its outcome.
    #[track_caller]
    fn fan_in<U, E2, V>(
        promises: impl IntoIterator<Item = Promise<T, E>>,
        empty: Result<U, E2>,
        on: impl Fn(&Arc<Inner<U, E2>>, &Mutex<Gather<V>>, usize, Result<T, E>) + Clone + Send + 'static,
    ) -> Promise<U, E2>
    where
        U: Clone + Send + 'static,
        E2: Clone + Send + 'static,
        V: Send + 'static,
    {
        let inputs: Vec<_> = promises.into_iter().collect();
        if inputs.is_empty() {
            return Promise::from_inner(Promise::combined(&inputs, Some(empty)));
        }
        let result = Promise::combined(&inputs, None);
        let gather = Gather::new(inputs.len());
        for (index, input) in inputs.iter().enumerate() {
            let (result, gather, on) = (result.clone(), gather.clone(), on.clone());
            input
                .inner
                .react(Box::new(move |outcome| on(&result, &gather, index, outcome)));
        }
        Promise::from_inner(result)
    }
    // ANCHOR_END: all

    /// Settled like the first input to settle (JavaScript's
    /// `Promise.race`). Empty input gives a promise that stays pending, as
    /// in JavaScript.
    ///
    /// # Panics
    ///
    /// As [`Promise::all`].
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::promise::Promise;
    ///
    /// weft::block_on(async {
    ///     let (slow, _keep) = Promise::<&str, String>::with_resolvers();
    ///     let fast = Promise::resolve("fast");
    ///     assert_eq!(Promise::race([slow, fast]).await, Ok("fast"));
    /// });
    /// ```
    #[track_caller]
    pub fn race(promises: impl IntoIterator<Item = Promise<T, E>>) -> Promise<T, E> {
        let inputs: Vec<_> = promises.into_iter().collect();
        let result = Promise::combined(&inputs, None);
        for input in &inputs {
            let result = result.clone();
            input.inner.react(Box::new(move |outcome| result.settle(outcome)));
        }
        Promise::from_inner(result)
    }

    /// Fulfilled like the first input to be fulfilled; rejected with an
    /// [`AggregateError`] of every reason, in input order, if all are
    /// rejected (JavaScript's `Promise.any`). Empty input gives an
    /// `AggregateError` with no reasons at once.
    ///
    /// # Panics
    ///
    /// As [`Promise::all`].
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::promise::{AggregateError, Promise};
    ///
    /// weft::block_on(async {
    ///     let mirrors = [Promise::<&str, &str>::reject("down"), Promise::resolve("mirror 2")];
    ///     assert_eq!(Promise::any(mirrors).await, Ok("mirror 2"));
    ///     let none = Promise::<&str, &str>::any([Promise::reject("a"), Promise::reject("b")]);
    ///     assert_eq!(none.await, Err(AggregateError { errors: vec!["a", "b"] }));
    /// });
    /// ```
    #[track_caller]
    pub fn any(promises: impl IntoIterator<Item = Promise<T, E>>) -> Promise<T, AggregateError<E>> {
        let empty = AggregateError { errors: Vec::new() };
        Promise::fan_in(
            promises,
            Err(empty),
            |result, gather, index, outcome| match outcome {
                Ok(value) => result.settle(Ok(value)),
                Err(reason) => {
                    if let Some(errors) = Gather::put(gather, index, reason) {
                        result.settle(Err(AggregateError { errors }));
                    }
                }
            },
        )
    }

    /// Fulfilled, once every input has settled, with each outcome in input
    /// order; never rejected (JavaScript's `Promise.allSettled`). Its error
    /// type is [`PromiseError`], which only a failing handler attached to
    /// it can produce. Empty input gives an empty `Vec` at once.
    ///
    /// # Panics
    ///
    /// As [`Promise::all`].
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::promise::{Promise, Settled};
    ///
    /// weft::block_on(async {
    ///     let outcomes = Promise::all_settled([Promise::<u8, &str>::resolve(1), Promise::reject("x")]);
    ///     assert_eq!(outcomes.await, Ok(vec![Settled::Fulfilled(1), Settled::Rejected("x")]));
    /// });
    /// ```
    #[track_caller]
    pub fn all_settled(
        promises: impl IntoIterator<Item = Promise<T, E>>,
    ) -> Promise<Vec<Settled<T, E>>, PromiseError> {
        Promise::fan_in(promises, Ok(Vec::new()), |result, gather, index, outcome| {
            if let Some(outcomes) = Gather::put(gather, index, Settled::from(outcome)) {
                result.settle(Ok(outcomes));
            }
        })
    }
}
