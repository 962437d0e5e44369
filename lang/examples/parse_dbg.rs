fn main() {
    let path = std::env::args().nth(1).unwrap();
    let src = std::fs::read_to_string(&path).unwrap();
    match rdtrace_lang::parser::parse(&src) {
        Ok(s) => println!("{:#?}", s),
        Err(d) => print!("{}", d.with_source(&path, &src).render()),
    }
}
