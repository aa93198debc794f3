//! A fixed pool of threads for password hashing.
//!
//! Argon2id allocates `memory_kib` (19 MiB by default) per hash. Run on tokio's elastic blocking pool, every new
//! thread that ever hashed kept such a buffer in its malloc arena, and the relay's memory grew with the number of
//! logins (measured: 224 MB after 40 registrations). A fixed set of `max_concurrent_hashes` threads bounds it to that
//! many buffers, each reused by its own thread, and caps concurrency without a semaphore.

use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::core_loop::CoreMsg;
use crate::core::{Input, JobId, JobOutcome};

type Work = Box<dyn FnOnce() -> JobOutcome + Send>;

pub struct HashPool {
    jobs: mpsc::Sender<(JobId, Work)>,
}

impl HashPool {
    /// Starts `threads` workers that report results to the core. The queue holds `capacity` jobs (the core never
    /// has more than `core::MAX_PENDING_JOBS` outstanding). Workers end when the pool is dropped.
    pub fn start(threads: usize, capacity: usize, core: mpsc::Sender<CoreMsg>) -> std::io::Result<Self> {
        let (jobs, rx) = mpsc::channel::<(JobId, Work)>(capacity.max(1));
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..threads.max(1) {
            let rx = Arc::clone(&rx);
            let core = core.clone();
            std::thread::Builder::new().name(format!("huddle-hash-{n}")).spawn(move || {
                loop {
                    // The lock is held only while waiting for the next job, never while hashing.
                    let next = match rx.lock() {
                        Ok(mut rx) => rx.blocking_recv(),
                        Err(_) => None,
                    };
                    let Some((job, work)) = next else { return };
                    let outcome = work();
                    if core.blocking_send(CoreMsg::Input(Input::JobDone { job, outcome })).is_err() {
                        return;
                    }
                }
            })?;
        }
        Ok(Self { jobs })
    }

    /// Queues a job without blocking. If the queue is full the job fails at once (the core bounds its pending jobs,
    /// so this does not happen in practice).
    pub fn submit(
        &self,
        job: JobId,
        work: impl FnOnce() -> JobOutcome + Send + 'static,
        failed: JobOutcome,
    ) -> Option<CoreMsg> {
        match self.jobs.try_send((job, Box::new(work))) {
            Ok(()) => None,
            Err(_) => Some(CoreMsg::Input(Input::JobDone { job, outcome: failed })),
        }
    }
}
