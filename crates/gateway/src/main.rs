//! The `tollgate` binary: see [`tollgate_gateway::cli`].

fn main() -> std::process::ExitCode {
    tollgate_gateway::cli::main()
}
