//! The simulator in a separate process (this binary with `--role sim`), so that its memory and
//! CPU time stay out of the library's measurements.
//!
//! The child serves `xo_sim::Sim` on one runtime thread, optionally behind a counting TCP proxy
//! for the HTTP API (to see how many connections the library opens), and answers line commands
//! on stdin: `status ID S`, `status_range A B S`, `stats`, `quit`. End of stdin also stops it.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use xo_sim::{OrderSpec, Sim, SimConfig};

/// Options of the simulator child.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// Orders 1..=orders exist with status "new".
    pub orders: i64,
    /// Centrifugo server ping interval.
    pub ping_secs: u32,
    /// Put a connection-counting proxy in front of the HTTP API.
    pub proxy: bool,
}

#[derive(Default)]
struct ProxyCounters {
    accepted: AtomicU64,
    live: AtomicI64,
    max_live: AtomicI64,
}

/// `--role sim`: runs in the child.
pub fn child_main(args: &[String]) -> ExitCode {
    let mut options = SimOptions {
        orders: 0,
        ping_secs: 25,
        proxy: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--orders" => options.orders = it.next().and_then(|v| v.parse().ok()).unwrap_or(0),
            "--ping-secs" => {
                options.ping_secs = it.next().and_then(|v| v.parse().ok()).unwrap_or(25)
            }
            "--proxy" => options.proxy = true,
            _ => {}
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("sim")
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sim child: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = SimConfig {
        ping_interval_secs: options.ping_secs,
        ..SimConfig::default()
    };
    let sim = match runtime.block_on(Sim::start(config)) {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("sim child: cannot listen: {e}");
            return ExitCode::FAILURE;
        }
    };
    for id in 1..=options.orders {
        sim.add_order(OrderSpec::new(id));
    }
    let counters = Arc::new(ProxyCounters::default());
    let proxy_addr = if options.proxy {
        match runtime.block_on(start_proxy(sim.addr(), counters.clone())) {
            Ok(addr) => addr.to_string(),
            Err(e) => {
                eprintln!("sim child: proxy: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        "-".to_owned()
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "XO_SIM_LISTENING {} {proxy_addr}", sim.addr());
    let _ = out.flush();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let words: Vec<&str> = line.split_whitespace().collect();
        let reply = match words.as_slice() {
            ["status", id, status] => {
                sim.set_status(id.parse().unwrap_or(0), *status);
                "ok".to_owned()
            }
            ["status_range", from, to, status] => {
                let (from, to): (i64, i64) = (from.parse().unwrap_or(1), to.parse().unwrap_or(0));
                for id in from..=to {
                    sim.set_status(id, *status);
                }
                "ok".to_owned()
            }
            ["stats"] => {
                let mut json = sim.stats().to_json();
                json["proxy_accepted"] = counters.accepted.load(Ordering::SeqCst).into();
                json["proxy_live"] = counters.live.load(Ordering::SeqCst).into();
                json["proxy_max_live"] = counters.max_live.load(Ordering::SeqCst).into();
                counters
                    .max_live
                    .store(counters.live.load(Ordering::SeqCst), Ordering::SeqCst);
                json.to_string()
            }
            ["quit"] => break,
            _ => format!("error unknown command {line:?}"),
        };
        let _ = writeln!(out, "{reply}");
        let _ = out.flush();
    }
    runtime.block_on(async {
        let _ = tokio::time::timeout(Duration::from_secs(5), sim.shutdown()).await;
    });
    runtime.shutdown_timeout(Duration::from_millis(200));
    ExitCode::SUCCESS
}

/// A TCP proxy to `target` that counts the connections it accepts.
async fn start_proxy(
    target: std::net::SocketAddr,
    counters: Arc<ProxyCounters>,
) -> std::io::Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            counters.accepted.fetch_add(1, Ordering::SeqCst);
            let live = counters.live.fetch_add(1, Ordering::SeqCst) + 1;
            counters.max_live.fetch_max(live, Ordering::SeqCst);
            let counters = counters.clone();
            tokio::spawn(async move {
                if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
                counters.live.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    Ok(addr)
}

/// The parent's handle on a simulator child.
pub struct SimProc {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    /// `127.0.0.1:PORT` of the simulator.
    pub addr: String,
    /// `127.0.0.1:PORT` of the counting proxy, if any.
    pub proxy: Option<String>,
}

impl SimProc {
    /// Starts `this binary --role sim` and waits for its listening line.
    pub fn start(options: &SimOptions) -> Result<SimProc, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut command = Command::new(exe);
        command
            .args(["--role", "sim", "--orders"])
            .arg(options.orders.to_string())
            .arg("--ping-secs")
            .arg(options.ping_secs.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if options.proxy {
            command.arg("--proxy");
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start the simulator: {e}"))?;
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .map_err(|e| format!("simulator: {e}"))?;
        let mut words = line.split_whitespace().skip(1);
        let addr = words
            .next()
            .ok_or_else(|| format!("simulator did not start: {line:?}"))?
            .to_owned();
        let proxy = words.next().filter(|p| *p != "-").map(str::to_owned);
        Ok(SimProc {
            child,
            stdin,
            stdout,
            addr,
            proxy,
        })
    }

    /// Sends one command and returns its one-line answer.
    pub fn command(&mut self, line: &str) -> Result<String, String> {
        let stdin = self.stdin.as_mut().ok_or("simulator stdin closed")?;
        writeln!(stdin, "{line}").map_err(|e| format!("simulator: {e}"))?;
        stdin.flush().map_err(|e| format!("simulator: {e}"))?;
        let mut answer = String::new();
        self.stdout
            .read_line(&mut answer)
            .map_err(|e| format!("simulator: {e}"))?;
        if answer.is_empty() {
            return Err("the simulator exited".into());
        }
        Ok(answer.trim_end().to_owned())
    }

    pub fn set_status_range(&mut self, from: i64, to: i64, status: &str) -> Result<(), String> {
        self.command(&format!("status_range {from} {to} {status}"))
            .map(drop)
    }

    /// The simulator's stats as JSON (see `xo_sim::Stats::to_json`, plus `proxy_*`); reading
    /// them resets `proxy_max_live` to the connections open now.
    pub fn stats(&mut self) -> Result<Value, String> {
        let text = self.command("stats")?;
        serde_json::from_str(&text).map_err(|e| format!("simulator stats: {e}: {text}"))
    }
}

impl Drop for SimProc {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = writeln!(stdin, "quit");
        }
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A counter of the stats JSON.
pub fn stat(stats: &Value, name: &str) -> u64 {
    stats.get(name).and_then(Value::as_u64).unwrap_or(0)
}

/// Requests per order id from the stats JSON.
pub fn http_requests(stats: &Value) -> std::collections::HashMap<i64, u64> {
    stats
        .get("http_requests")
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .filter_map(|(k, v)| Some((k.parse().ok()?, v.as_u64()?)))
                .collect()
        })
        .unwrap_or_default()
}
