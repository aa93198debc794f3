//! What one run measured, and the figures printed from it.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Run {
    pub deliveries: u64,
    pub wall: Duration,
    /// The server's CPU time (user + system) during the run.
    pub cpu: Duration,
    pub latencies: Vec<Duration>,
}

impl Run {
    pub fn new(deliveries: u64, wall: Duration, cpu: Duration, mut latencies: Vec<Duration>) -> Self {
        latencies.sort_unstable();
        Self { deliveries, wall, cpu, latencies }
    }

    pub fn per_second(&self) -> f64 {
        self.deliveries as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    /// Server CPU per delivered message, in microseconds.
    pub fn cpu_us(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.deliveries.max(1) as f64
    }

    pub fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies.len() - 1) as f64 * p).round() as usize;
        self.latencies[i.min(self.latencies.len() - 1)]
    }
}

/// The median run by CPU per delivery (runs are interleaved, so a noisy moment hits both servers alike).
pub fn median(runs: &mut [Run]) -> Option<Run> {
    runs.sort_by(|a, b| a.cpu_us().total_cmp(&b.cpu_us()));
    runs.get(runs.len() / 2).cloned()
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

pub fn kib(bytes: f64) -> String {
    format!("{:.1} KiB", bytes / 1024.0)
}

pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
