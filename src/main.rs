fn main() {
    std::process::exit(rulesim::cli::main());
}
