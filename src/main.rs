//! The `uketsuke` command: a thin shell over the library's command line.
fn main() -> std::process::ExitCode {
    uketsuke::cli::main()
}
