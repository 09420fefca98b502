//! `xo-sim`: the simulator as a process, for the C, C++ and C# tests and the demo.
//!
//! `xo-sim [--port N] [--project-id N] [--ping-secs N] [--chaos SEED] [--ignore-stdin]` prints
//! `XO_SIM_LISTENING 127.0.0.1:<port>` once listening, then serves until `POST /_sim/shutdown`
//! or until its standard input reaches end-of-file (unless `--ignore-stdin`).

use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::Duration;

use xo_sim::{Sim, SimConfig};

const USAGE: &str =
    "usage: xo-sim [--port N] [--project-id N] [--ping-secs N] [--chaos SEED] [--ignore-stdin]

Serves Xsolla's order-status endpoints on 127.0.0.1 and prints
`XO_SIM_LISTENING 127.0.0.1:<port>` once listening. Stops on `POST /_sim/shutdown`
or when standard input reaches end-of-file (unless --ignore-stdin).
--chaos SEED injects random faults drawn from SEED (see the README, \"Chaos mode\").";

/// Command-line options.
#[derive(Debug)]
struct Options {
    port: u16,
    config: SimConfig,
    ignore_stdin: bool,
}

/// Parses the arguments; `Err` carries the message to print (usage for `--help`).
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        port: 0,
        config: SimConfig::default(),
        ignore_stdin: false,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = || -> Result<String, String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value\n\n{USAGE}"))
        };
        let invalid = |v: &str| format!("invalid value `{v}` for {name}\n\n{USAGE}");
        match name.as_str() {
            "--port" => {
                let v = value()?;
                options.port = v.parse().map_err(|_| invalid(&v))?;
            }
            "--project-id" => {
                let v = value()?;
                options.config.project_id = v.parse().map_err(|_| invalid(&v))?;
            }
            "--ping-secs" => {
                let v = value()?;
                options.config.ping_interval_secs = v.parse().map_err(|_| invalid(&v))?;
            }
            "--chaos" => {
                let v = value()?;
                options.config.chaos_seed = Some(v.parse().map_err(|_| invalid(&v))?);
            }
            "--ignore-stdin" => options.ignore_stdin = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            _ => return Err(format!("unknown argument `{arg}`\n\n{USAGE}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return if message == USAGE {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("xo-sim: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(serve(options));
    // A blocked stdin reader thread must not keep the process alive.
    runtime.shutdown_timeout(Duration::from_millis(100));
    code
}

async fn serve(options: Options) -> ExitCode {
    let sim = match Sim::start_on_port(options.config, options.port).await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("xo-sim: cannot listen on 127.0.0.1:{}: {e}", options.port);
            return ExitCode::FAILURE;
        }
    };
    {
        let mut stdout = std::io::stdout().lock();
        // If nobody reads stdout there is nobody to tell; keep serving anyway.
        let _ = writeln!(stdout, "XO_SIM_LISTENING {}", sim.addr());
        let _ = stdout.flush();
    }
    let stdin_closed = async {
        if options.ignore_stdin {
            std::future::pending::<()>().await;
        }
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        // A plain thread: tokio's stdin would keep the runtime from shutting down while blocked.
        std::thread::spawn(move || {
            let mut stdin = std::io::stdin().lock();
            let mut buf = [0u8; 1024];
            while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
            let _ = tx.send(());
        });
        let _ = rx.await;
    };
    tokio::select! {
        () = sim.shutdown_requested() => {}
        () = stdin_closed => {}
    }
    sim.shutdown().await;
    ExitCode::SUCCESS
}

/// The wall-clock watchdog of the unit tests (test infrastructure shared with the library's tests).
#[cfg(test)]
#[path = "../../tests/common/watchdog.rs"]
mod test_watchdog;

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_every_option() {
        let _watchdog = crate::test_watchdog::arm();
        let o = parse_args(args(&[
            "--port",
            "8080",
            "--project-id=7",
            "--ping-secs",
            "3",
            "--chaos",
            "42",
            "--ignore-stdin",
        ]))
        .expect("valid arguments");
        assert_eq!(o.port, 8080);
        assert_eq!(o.config.project_id, 7);
        assert_eq!(o.config.ping_interval_secs, 3);
        assert_eq!(o.config.chaos_seed, Some(42));
        assert!(o.ignore_stdin);
    }

    #[test]
    fn defaults_and_errors() {
        let _watchdog = crate::test_watchdog::arm();
        let o = parse_args(args(&[])).expect("no arguments is valid");
        assert_eq!(o.port, 0);
        assert_eq!(o.config, SimConfig::default());
        assert!(!o.ignore_stdin);
        assert!(parse_args(args(&["--port"])).is_err());
        assert!(parse_args(args(&["--port", "x"])).is_err());
        assert!(parse_args(args(&["--bogus"])).is_err());
        assert!(parse_args(args(&["--chaos", "-1"])).is_err());
    }
}
