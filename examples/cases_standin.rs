//! Runs the Connect Cases stand-in from test support, for the local main job (`scripts/demo`):
//! `cargo run --example cases_standin -- FIXTURE.json PORT`.

#[path = "../tests/support/cases_standin.rs"]
mod cases_standin;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [fixture, port] = args.as_slice() else {
        eprintln!("usage: cases_standin FIXTURE.json PORT");
        std::process::exit(2);
    };
    let fixture: cases_standin::Fixture =
        serde_json::from_slice(&std::fs::read(fixture).expect("read fixture"))
            .expect("parse fixture");
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port.parse::<u16>().expect("port")))
        .await
        .expect("bind");
    let standin = cases_standin::CasesStandIn::serve(listener, fixture);
    eprintln!("Connect Cases stand-in on {}", standin.endpoint());
    std::future::pending::<()>().await;
}
