//! register/unregister/whereis, their errors, and names freed on death.

mod common;
use common::*;
use ferl::{Atom, Node, RegisterError};

#[tokio::test]
async fn register_whereis_unregister_and_errors() {
    let node = Node::local("r1@test", 1);
    let name = Atom::new("alpha");
    let a = node.spawn(|mut p| async move {
        p.receive().await;
    });
    let b = node.spawn(|mut p| async move {
        p.receive().await;
    });
    node.register(name, a).unwrap();
    assert_eq!(node.whereis(name), Some(a));
    assert!(node.registered().contains(&name));
    assert_eq!(
        node.register(name, b),
        Err(RegisterError::NameTaken(name, a))
    );
    assert_eq!(
        node.register(Atom::new("beta"), a),
        Err(RegisterError::AlreadyNamed(a, name))
    );
    assert_eq!(
        node.register(Atom::UNDEFINED, b),
        Err(RegisterError::Undefined)
    );
    node.send_name(name, atom("hi")).unwrap();
    assert!(node.send_name(Atom::new("ghost"), atom("hi")).is_err());
    node.unregister(name).unwrap();
    assert_eq!(node.whereis(name), None);
    assert_eq!(
        node.unregister(name),
        Err(RegisterError::NotRegistered(name))
    );
    // The name is free again, and a can take another name.
    node.register(name, b).unwrap();
    node.register(Atom::new("beta"), a).unwrap();

    // Death frees the name.
    node.send(b, atom("stop"));
    wait_dead(&node, b).await;
    assert_eq!(node.whereis(name), None);
    assert_eq!(node.register(name, b), Err(RegisterError::NotAlive(b)));
    node.register(name, a).unwrap_err(); // a already has "beta"
}

#[tokio::test]
async fn send_to_local_name_via_tuple() {
    let node = Node::local("r2@test", 1);
    let got = in_process(&node, |mut p| async move {
        p.register(Atom::new("me")).unwrap();
        let node_name = p.node().name();
        p.send_to(Atom::new("me"), node_name, atom("hello"))
            .unwrap();
        p.receive().await
    })
    .await;
    assert!(got.is_atom("hello"));
}
