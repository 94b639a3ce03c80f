//! The `tollgate` binary: see [`tollgate_gateway::cli`].

/// mimalloc rather than glibc's malloc: allocation was a sixth of the gateway's
/// instructions per proxied request (see `docs/benchmarks.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tollgate_gateway::cli::main()
}
