//! One single-flight for threads and tasks: `Cache::get_or_insert_with` and
//! `Cache::try_get_or_insert_async` of one key share one computation, a
//! cancelled async leader hands the lead on, and a thread never blocks on a
//! task.
#![cfg(feature = "async")]

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use depcache::Cache;

type C = Cache<String, u64, String>;

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn threads_wait_for_a_thread_and_tasks_await_it() {
    let cache = C::new(100);
    let runs = Arc::new(AtomicUsize::new(0));
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    // A thread leads and holds its computation open.
    let leader = {
        let (cache, runs) = (cache.clone(), runs.clone());
        std::thread::spawn(move || {
            cache.get_or_insert_with("k".into(), ["a".to_string()], || {
                runs.fetch_add(1, SeqCst);
                started_tx.send(()).unwrap();
                go_rx.recv().unwrap();
                7
            })
        })
    };
    started_rx.recv().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (cache, runs) = (cache.clone(), runs.clone());
            rt.spawn(async move {
                cache
                    .try_get_or_insert_async("k".into(), ["a".to_string()], || async {
                        runs.fetch_add(1, SeqCst);
                        Ok::<_, ()>(99)
                    })
                    .await
            })
        })
        .collect();
    // The tasks are waiting on the thread's flight: none has computed.
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(runs.load(SeqCst), 1);
    go_tx.send(()).unwrap();
    assert_eq!(leader.join().unwrap(), 7);
    for t in tasks {
        assert_eq!(rt.block_on(t).unwrap(), Ok(7));
    }
    assert_eq!(runs.load(SeqCst), 1);
    assert_eq!(cache.get("k"), Some(7));
}

#[test]
fn tasks_share_one_async_computation() {
    let cache = C::new(100);
    let runs = Arc::new(AtomicUsize::new(0));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let gate = Arc::new(tokio::sync::Notify::new());
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (cache, runs, gate) = (cache.clone(), runs.clone(), gate.clone());
            rt.spawn(async move {
                cache
                    .try_get_or_insert_async("k".into(), ["a".to_string()], || async move {
                        runs.fetch_add(1, SeqCst);
                        gate.notified().await;
                        Ok::<_, ()>(5)
                    })
                    .await
            })
        })
        .collect();
    // Wake the leader once everyone had time to join.
    rt.block_on(async {
        while runs.load(SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        gate.notify_one();
    });
    for t in tasks {
        assert_eq!(rt.block_on(t).unwrap(), Ok(5));
    }
    assert_eq!(runs.load(SeqCst), 1);
}

#[test]
fn a_cancelled_async_leader_hands_the_lead_to_a_waiting_task() {
    let cache = C::new(100);
    // The task leads and stays pending.
    let mut leading = Box::pin(cache.try_get_or_insert_async("k".into(), ["a".to_string()], || {
        std::future::pending::<Result<u64, ()>>()
    }));
    assert!(poll_once(leading.as_mut()).is_pending());
    // An async waiter joins the task's flight.
    let waiter_cache = cache.clone();
    let mut waiting = Box::pin(async move {
        waiter_cache
            .try_get_or_insert_async("k".into(), ["a".to_string()], || async { Ok::<_, ()>(3) })
            .await
    });
    assert!(poll_once(waiting.as_mut()).is_pending());
    // Cancel the leader: the waiter retries, leads, and computes.
    drop(leading);
    assert_eq!(poll_once(waiting.as_mut()), Poll::Ready(Ok(3)));
    assert_eq!(cache.get("k"), Some(3));
}

#[test]
fn a_thread_never_blocks_on_a_task() {
    let cache = C::new(100);
    // A task leads the flight of "k" and is pending: nothing polls it until
    // the thread below is done.
    let mut leading = Box::pin(cache.try_get_or_insert_async("k".into(), ["a".to_string()], || {
        std::future::pending::<Result<u64, ()>>()
    }));
    assert!(poll_once(leading.as_mut()).is_pending());
    // A blocking call of the same key computes beside it (blocking would
    // never end: the task waits for this thread) and publishes its value.
    let (tx, rx) = std::sync::mpsc::channel();
    let blocking = {
        let cache = cache.clone();
        std::thread::spawn(move || tx.send(cache.get_or_insert_with("k".into(), ["a".to_string()], || 11)))
    };
    // Not a timing check: a minute only separates "returned" from "stuck".
    let v = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("a thread blocked on a task's flight");
    assert_eq!(v, 11);
    blocking.join().unwrap().unwrap();
    assert_eq!(cache.get("k"), Some(11));
    // Once the task's flight is gone, threads hit the published value.
    drop(leading);
    assert_eq!(cache.get_or_insert_with("k".into(), ["a".to_string()], || 12), 11);
}

#[test]
fn a_threads_value_computed_across_an_invalidation_is_not_cached() {
    let cache = C::new(100);
    let mut leading = pin!(cache.try_get_or_insert_async("k".into(), ["a".to_string()], || {
        std::future::pending::<Result<u64, ()>>()
    }));
    assert!(poll_once(leading.as_mut()).is_pending());
    // The thread computes beside the task under its own ticket; an
    // invalidation during its computation keeps its value out.
    let v = cache.get_or_insert_with("k".into(), ["a".to_string()], || {
        cache.invalidate("a".to_string());
        21
    });
    assert_eq!(v, 21);
    assert_eq!(cache.get("k"), None);
}
