//! The `tickline` binary: the command line with the bundled strategies. A strategy crate's
//! `main` is the same line with its own strategies added (see the library's docs).

fn main() -> std::process::ExitCode {
    tickline::run(tickline::Registry::bundled())
}
