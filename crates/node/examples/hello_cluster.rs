//! The library in one page: a distributed ferl node with a registered process and a function
//! other nodes can call with `:rpc.call`, which then calls another node itself.
//!
//!     cargo run -p ferl --example hello_cluster -- rust bob@vm
//!     iex --sname bob                      # then, in iex:
//!     send({:echo, :"rust@vm"}, {self(), :hi}); flush()      # => {:echo, :hi}
//!     :rpc.call(:"rust@vm", Hello, :shout, ["alice"])       # => "HELLO ALICE!"

use ferl::rpc;
use ferl::{Node, NodeName, Process, StartOptions, Term};
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let sname = args.next().unwrap_or_else(|| "rust".to_string());
    let peer = args.next();

    // Like `iex --sname rust`: registers with epmd (starting one if none runs), cookie from
    // ~/.erlang.cookie unless StartOptions::cookie is set.
    let node = Node::start(StartOptions::new(NodeName::Short(sname))).await?;
    println!("started {}", node.name());

    // A registered process: answers {From, Msg} with {:echo, Msg}.
    let echo = node.spawn(|mut p: Process| async move {
        loop {
            let msg = p.receive().await;
            if let Some([Term::Pid(from), body]) = msg.as_tuple() {
                p.send(*from, Term::tuple(vec![Term::atom("echo"), body.clone()]));
            }
        }
        #[allow(unreachable_code)]
        ()
    });
    node.register("echo".into(), echo)?;

    // A function any node can call: :rpc.call(:"rust@vm", Hello, :shout, ["alice"]).
    node.def_fn("Elixir.Hello", "shout", 1, |args: Vec<Term>| async move {
        let name = args.first().and_then(|t| t.as_str()).unwrap_or("nobody");
        Term::from(format!("HELLO {}!", name.to_uppercase()))
    });

    // Call the tutorial's Greet.say/1 on another node (Elixir or ferl), as :rpc.call does.
    if let Some(peer) = peer {
        let peer = ferl::Atom::new(&peer);
        if node.connect(peer).await {
            let reply = node
                .rpc_call(
                    peer,
                    "Elixir.Greet",
                    "say",
                    vec![Term::from("rust")],
                    Some(Duration::from_secs(5)),
                )
                .await;
            println!("Greet.say on {peer}: {}", rpc::to_term(&reply).elixir());
        } else {
            println!("could not connect to {peer}");
        }
    }
    println!("serving; Ctrl-C to stop");
    tokio::signal::ctrl_c().await?;
    node.stop();
    Ok(())
}
