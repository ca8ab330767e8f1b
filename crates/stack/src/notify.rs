//! `Client.notify`: the listener process a client spawns when it subscribes. It logs every
//! notification the server sends, as the tutorial's client does, until `:stop`.

use crate::protocol::{stack_term, Notification};
use crate::text::interpolate;
use ferl::Process;

/// The log line for a notification (`None` for `:stop`, which logs `stopping` and ends).
pub fn log_line(n: &Notification) -> Option<String> {
    Some(match n {
        Notification::Push { name, item } => {
            format!("{} gave: '{}'", interpolate(name), interpolate(item))
        }
        Notification::Pop { name, from, item } => format!(
            "{} took: '{}' from: {}",
            interpolate(name),
            interpolate(item),
            interpolate(from)
        ),
        Notification::Get { stack } => format!("current stack: {}", stack_term(stack).elixir()),
        Notification::Empty => "nothing left to pop".to_string(),
        Notification::Stop => return None,
    })
}

/// The listener's body: logs each notification; ignores anything else; ends at `:stop`.
pub async fn listen(mut p: Process) {
    loop {
        let msg = p.receive().await;
        match Notification::from_term(&msg) {
            Some(Notification::Stop) => {
                tracing::info!("stopping");
                return;
            }
            Some(n) => {
                if let Some(line) = log_line(&n) {
                    tracing::info!("{line}");
                }
            }
            None => tracing::debug!("listener ignores {}", msg.elixir()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_match_the_tutorial_transcript() {
        let n = |t: Notification| log_line(&t).unwrap();
        assert_eq!(
            n(Notification::Push {
                name: "alice".into(),
                item: "Howdy Partner!".into()
            }),
            "alice gave: 'Howdy Partner!'"
        );
        assert_eq!(
            n(Notification::Pop {
                name: "alice".into(),
                from: "bob".into(),
                item: "Hey There!".into()
            }),
            "alice took: 'Hey There!' from: bob"
        );
        assert_eq!(
            n(Notification::Get {
                stack: vec![
                    ("bob".into(), "Hey There!".into()),
                    ("alice".into(), "Howdy Partner!".into())
                ]
            }),
            r#"current stack: [{"bob", "Hey There!"}, {"alice", "Howdy Partner!"}]"#
        );
        assert_eq!(n(Notification::Get { stack: vec![] }), "current stack: []");
        assert_eq!(n(Notification::Empty), "nothing left to pop");
        assert_eq!(log_line(&Notification::Stop), None);
    }
}
