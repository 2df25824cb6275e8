//! Small command-line helper around the data crate.
//!
//! ```text
//! cargo run -p tickline-data --example bars -- gen  <out.csv|out.parquet> <bars> [seed]
//! cargo run -p tickline-data --example bars -- load <file.csv|file.parquet>
//! ```
//! `gen` writes synthetic one-minute bars; `load` loads and validates a file and prints a
//! summary per symbol (handy with `/usr/bin/time -v` to see peak memory).

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use tickline_data::synth::{SynthConfig, generate};
use tickline_data::timestamp::format_utc;
use tickline_data::{LoadOptions, load_bars, write_bars};

fn usage() -> ExitCode {
    eprintln!("usage: bars gen <out.csv|out.parquet> <bars> [seed]\n       bars load <file>");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["gen", out, bars, rest @ ..] => {
            let (Ok(bars), Ok(seed)) = (
                bars.parse::<usize>(),
                rest.first().map_or(Ok(42), |s| s.parse::<u64>()),
            ) else {
                return usage();
            };
            let series = generate(&SynthConfig {
                bars,
                seed,
                ..Default::default()
            });
            match write_bars(&series, Path::new(out)) {
                Ok(()) => {
                    println!("wrote {bars} bars to {out}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        ["load", path] => {
            let start = Instant::now();
            match load_bars(Path::new(path), &LoadOptions::default()) {
                Ok(all) => {
                    let took = start.elapsed();
                    for s in &all {
                        let (first, last) = match (s.ts.first(), s.ts.last()) {
                            (Some(f), Some(l)) => (format_utc(*f), format_utc(*l)),
                            _ => (String::new(), String::new()),
                        };
                        println!(
                            "{}: {} bars, interval {} s, {first} .. {last}",
                            s.symbol,
                            s.len(),
                            s.interval / 1_000_000_000
                        );
                    }
                    println!("loaded in {:.1} ms", took.as_secs_f64() * 1e3);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => usage(),
    }
}
