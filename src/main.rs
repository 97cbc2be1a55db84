fn main() {
    std::process::exit(experiments::cli::main());
}
