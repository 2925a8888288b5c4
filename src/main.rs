//! The `hark` command line. Exit codes: 0 success, 1 some inputs failed, 2 usage or fatal error.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
