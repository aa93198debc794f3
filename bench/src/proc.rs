//! Child processes (the servers under test) and what the kernel says they used: CPU time from `/proc/PID/stat`,
//! resident memory from `/proc/PID/status`. Servers run pinned to one core and the load driver to the other when
//! `taskset` exists, so the two never compete for a CPU.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// The core the server under test runs on; the driver takes the other one.
pub const SERVER_CORE: usize = 0;
pub const DRIVER_CORE: usize = 1;

/// Whether `taskset` (util-linux) is there to pin processes with.
pub fn can_pin() -> bool {
    Command::new("taskset").arg("-V").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Pins this whole process (every thread, including those made later) to `core`.
pub fn pin_self(core: usize) -> Result<()> {
    let status = Command::new("taskset")
        .args(["-a", "-cp", &core.to_string(), &std::process::id().to_string()])
        .stdout(Stdio::null())
        .status()
        .context("running taskset")?;
    if !status.success() {
        bail!("taskset could not pin the driver to core {core}");
    }
    Ok(())
}

/// A server under test: this executable run with a server subcommand, which prints `listening ADDR` once ready
/// and stops when its stdin closes.
pub struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    pub addr: std::net::SocketAddr,
}

impl Server {
    pub fn spawn(args: &[&str], pin: bool) -> Result<Self> {
        let exe = std::env::current_exe().context("finding this executable")?;
        let mut command = if pin {
            let mut c = Command::new("taskset");
            c.args(["-c", &SERVER_CORE.to_string()]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        // As the relay's systemd unit runs it: memory freed after a burst goes back to the system at once, not when
        // the threads that freed it next allocate (which, for a relay gone quiet, may be much later). A value already
        // set is kept, to measure others (`MIMALLOC_PURGE_DELAY=1000` is the allocator's own default).
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            command.env("MIMALLOC_PURGE_DELAY", "0");
        }
        let mut child = command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting a server")?;
        let stdout = child.stdout.take().context("the server's stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).context("reading the server's address")?;
        let addr = line.trim().strip_prefix("listening ").context("the server did not say where it listens")?;
        let addr = addr.parse().with_context(|| format!("the server's address {addr:?}"))?;
        let stdin = child.stdin.take();
        Ok(Self { child, stdin, addr })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU time used so far (user + system).
    pub fn cpu(&self) -> Result<Duration> {
        cpu_of(self.pid())
    }

    /// Resident memory now, in bytes.
    pub fn rss(&self) -> Result<u64> {
        rss_of(self.pid())
    }

    /// Closes its stdin (it shuts down cleanly) and waits for it.
    pub fn stop(mut self) -> Result<()> {
        drop(self.stdin.take());
        self.child.wait().context("waiting for the server to stop")?;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.stdin.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Clock ticks per second of `/proc` CPU times.
fn ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

pub fn cpu_of(pid: u32) -> Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).context("reading /proc/PID/stat")?;
    // The command name may hold spaces; the fields after it are plain.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).context("an unexpected /proc/PID/stat")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the command name.
    let ticks: u64 =
        fields.get(11..13).context("short /proc/PID/stat")?.iter().filter_map(|f| f.parse::<u64>().ok()).sum();
    Ok(Duration::from_secs_f64(ticks as f64 / ticks_per_second() as f64))
}

/// CPU time of every thread of `pid` in nanoseconds, from the scheduler's statistics (`/proc/PID/task/*/schedstat`):
/// finer than the clock ticks of `/proc/PID/stat`, for a client that spends a millisecond per key. Threads that
/// ended are not counted, so it is for long-lived threads (the client's runtime), not the relay's job pools.
pub fn precise_cpu_of(pid: u32) -> Result<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).context("reading /proc/PID/task")? {
        let path = task?.path().join("schedstat");
        // A thread that ended between listing and reading has nothing to add.
        if let Ok(stat) = std::fs::read_to_string(path) {
            total += stat.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
        }
    }
    Ok(Duration::from_nanos(total))
}

pub fn rss_of(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).context("reading /proc/PID/status")?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .context("no VmRSS in /proc/PID/status")?;
    Ok(kib * 1024)
}
