//! Errors as iex shows them: `ShellError` (raised while evaluating, printed `** (Kind) message`
//! with optional stacktrace lines) and `ParseError` (syntax errors and incomplete input).
//! Every message text here was checked against Elixir 1.14 (see tests/iex_live.rs).

use etf::Term;
use std::fmt;

/// An error raised by evaluation or by the runtime: what iex prints after `** `.
#[derive(Clone, Debug, PartialEq)]
pub enum ShellError {
    /// An Elixir exception: `** (ArgumentError) message`, then its stacktrace lines (iex shows
    /// the failing BIF call, e.g. `:erlang.hd([])`; errors in shell code itself show none).
    Exception {
        module: String,
        message: String,
        stacktrace: Vec<String>,
    },
    /// `exit(reason)`: `** (exit) reason`.
    Exit(Term),
    /// `throw(value)`: `** (throw) value`.
    Throw(Term),
}

/// "1st", "2nd", "3rd", "4th" as in Erlang's argument error reports.
fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, r) if r != 11 => "st",
        (2, r) if r != 12 => "nd",
        (3, r) if r != 13 => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

impl ShellError {
    pub fn exception(module: &str, message: impl Into<String>) -> ShellError {
        ShellError::Exception {
            module: module.to_string(),
            message: message.into(),
            stacktrace: Vec::new(),
        }
    }

    /// Adds a stacktrace line such as `:erlang.send(:undefined, :hi)` (indented by `render`).
    pub fn at(mut self, frame: impl Into<String>) -> ShellError {
        if let ShellError::Exception { stacktrace, .. } = &mut self {
            stacktrace.push(frame.into());
        }
        self
    }

    /// A BIF argument error: `errors were found at the given arguments:\n\n  * 1st argument: ...`.
    pub fn bad_argument(position: usize, reason: &str) -> ShellError {
        ShellError::exception(
            "ArgumentError",
            format!(
                "errors were found at the given arguments:\n\n  * {} argument: {reason}\n",
                ordinal(position)
            ),
        )
    }

    /// `Kernel.send/2` to something that is not a pid, port, registered name or `{name, node}`.
    pub fn invalid_destination(dest: &Term, msg: &Term) -> ShellError {
        ShellError::bad_argument(1, "invalid destination").at(format!(
            ":erlang.send({}, {})",
            dest.elixir(),
            msg.elixir()
        ))
    }

    /// `** (UndefinedFunctionError) function Foo.bar/0 is undefined (module Foo is not available)`.
    /// `module_loaded` selects the "or private" wording used when the module exists.
    pub fn undefined_function(
        module: &Term,
        function: &str,
        args: &[Term],
        module_loaded: bool,
    ) -> ShellError {
        let m = module.elixir().to_string();
        let f = crate::builtins::fun_name_text(function);
        let why = if module_loaded {
            "is undefined or private".to_string()
        } else {
            format!("is undefined (module {m} is not available)")
        };
        let call_args: Vec<String> = args.iter().map(|a| a.elixir().to_string()).collect();
        ShellError::exception(
            "UndefinedFunctionError",
            format!("function {m}.{f}/{} {why}", args.len()),
        )
        .at(format!("{m}.{f}({})", call_args.join(", ")))
    }

    pub fn match_error(value: &Term) -> ShellError {
        ShellError::exception(
            "MatchError",
            format!("no match of right hand side value: {}", value.elixir()),
        )
    }

    /// `ArithmeticError` as iex 1.14 shows it for an operator: the message names the expression
    /// and the stacktrace shows the `:erlang` BIF.
    pub fn arith(op: &str, args: &[&Term]) -> ShellError {
        let shown: Vec<String> = args.iter().map(|a| a.elixir().to_string()).collect();
        let expr = match shown.as_slice() {
            [a, b] => format!("{a} {op} {b}"),
            [a] => format!("{op}({a})"),
            _ => op.to_string(),
        };
        ShellError::exception(
            "ArithmeticError",
            format!("bad argument in arithmetic expression: {expr}"),
        )
        .at(format!(":erlang.{op}({})", shown.join(", ")))
    }

    /// `** (CompileError) iex:LINE: message`.
    pub fn compile(line: u32, message: impl fmt::Display) -> ShellError {
        ShellError::exception("CompileError", format!("iex:{line}: {message}"))
    }

    pub fn key_error(key: &Term, container: &Term) -> ShellError {
        let mut message = format!("key {} not found in: {}", key.elixir(), container.elixir());
        if !matches!(container, Term::Map(_)) {
            message.push_str(
                ". If you are using the dot syntax, such as map.field, make sure the left-hand \
                 side of the dot is a map",
            );
        }
        ShellError::exception("KeyError", message)
    }

    /// An Erlang error reason turned into the exception Elixir would show
    /// (`Exception.normalize/2`): `badarg` -> ArgumentError, `{:badmatch, v}` -> MatchError, ...
    pub fn from_erlang(reason: &Term) -> ShellError {
        if let Term::Atom(a) = reason {
            match a.as_str() {
                "badarg" => return ShellError::exception("ArgumentError", "argument error"),
                "badarith" => {
                    return ShellError::exception(
                        "ArithmeticError",
                        "bad argument in arithmetic expression",
                    )
                }
                "system_limit" => {
                    return ShellError::exception(
                        "SystemLimitError",
                        "a system limit has been reached",
                    )
                }
                _ => {}
            }
        }
        if let Term::Tuple(t) = reason {
            if let [Term::Atom(tag), v] = t.as_slice() {
                match tag.as_str() {
                    "badmatch" => return ShellError::match_error(v),
                    "case_clause" => {
                        return ShellError::exception(
                            "CaseClauseError",
                            format!("no case clause matching: {}", v.elixir()),
                        )
                    }
                    "badkey" => {
                        return ShellError::exception(
                            "KeyError",
                            format!("key {} not found", v.elixir()),
                        )
                    }
                    "badfun" => {
                        return ShellError::exception(
                            "BadFunctionError",
                            format!("expected a function, got: {}", v.elixir()),
                        )
                    }
                    _ => {}
                }
            }
        }
        ShellError::exception("ErlangError", format!("Erlang error: {}", reason.elixir()))
    }

    /// `Exception.format(kind, e, [])`: the first line(s), without stacktrace.
    pub fn banner(&self) -> String {
        match self {
            ShellError::Exception {
                module, message, ..
            } => format!("** ({module}) {message}"),
            ShellError::Exit(t) => format!("** (exit) {}", t.elixir()),
            ShellError::Throw(t) => format!("** (throw) {}", t.elixir()),
        }
    }

    /// Everything iex prints for the error (before the next prompt), without the final newline:
    /// the banner, then each stacktrace line indented by four spaces, or an empty line if none.
    pub fn render(&self) -> String {
        let stack: &[String] = match self {
            ShellError::Exception { stacktrace, .. } => stacktrace,
            _ => &[],
        };
        let lines: Vec<String> = stack.iter().map(|l| format!("    {l}")).collect();
        format!("{}\n{}", self.banner(), lines.join("\n"))
    }
}

impl fmt::Display for ShellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for ShellError {}

/// Why some input could not be parsed.
#[derive(Clone, Debug, PartialEq)]
pub enum ParseError {
    /// The input ends before the expression does (open bracket, string, `do` ...): the REPL asks
    /// for another line; as a final answer it is a `TokenMissingError`.
    Incomplete(SyntaxIssue),
    /// The input cannot be Elixir, whatever follows: `SyntaxError`.
    Syntax(SyntaxIssue),
}

/// Where and what: 1-based line and column, message as Elixir words it.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntaxIssue {
    pub line: u32,
    pub col: u32,
    pub message: String,
    /// Elixir 1.14 omits the code snippet for some errors (a string token after an expression).
    pub snippet: bool,
}

impl SyntaxIssue {
    pub fn new(line: u32, col: u32, message: impl Into<String>) -> SyntaxIssue {
        SyntaxIssue {
            line,
            col,
            message: message.into(),
            snippet: true,
        }
    }
}

impl ParseError {
    pub fn issue(&self) -> &SyntaxIssue {
        match self {
            ParseError::Incomplete(i) | ParseError::Syntax(i) => i,
        }
    }

    /// The error as iex prints it for `source`, with the code snippet and caret.
    pub fn to_shell_error(&self, source: &str) -> ShellError {
        self.to_shell_error_from(source, 1)
    }

    /// As `to_shell_error`, for a source whose first line is numbered `first_line`.
    pub fn to_shell_error_from(&self, source: &str, first_line: u32) -> ShellError {
        let (module, issue) = match self {
            ParseError::Incomplete(i) => ("TokenMissingError", i),
            ParseError::Syntax(i) => ("SyntaxError", i),
        };
        let mut message = format!("iex:{}:{}: {}", issue.line, issue.col, issue.message);
        let text = source
            .lines()
            .nth(issue.line.saturating_sub(first_line) as usize);
        if let (Some(text), true) = (text, issue.snippet) {
            let n = issue.line.to_string();
            let pad = " ".repeat(n.len() + 2);
            let caret = " ".repeat(issue.col.saturating_sub(1) as usize);
            message.push_str(&format!("\n{pad} |\n  {n} | {text}\n{pad} | {caret}^"));
        }
        ShellError::exception(module, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals() {
        assert_eq!(ordinal(1), "1st");
        assert_eq!(ordinal(2), "2nd");
        assert_eq!(ordinal(3), "3rd");
        assert_eq!(ordinal(4), "4th");
        assert_eq!(ordinal(11), "11th");
        assert_eq!(ordinal(22), "22nd");
    }

    #[test]
    fn erlang_reasons_normalised_like_elixir() {
        // Expected texts from `:erlang.error(reason)` typed into iex 1.14.
        let erpc = Term::tuple(vec![Term::atom("erpc"), Term::atom("noconnection")]);
        for (reason, want) in [
            (
                erpc,
                "** (ErlangError) Erlang error: {:erpc, :noconnection}\n",
            ),
            (Term::atom("badarg"), "** (ArgumentError) argument error\n"),
            (
                Term::tuple(vec![Term::atom("badmatch"), Term::Int(3)]),
                "** (MatchError) no match of right hand side value: 3\n",
            ),
            (
                Term::atom("badarith"),
                "** (ArithmeticError) bad argument in arithmetic expression\n",
            ),
        ] {
            assert_eq!(ShellError::from_erlang(&reason).render(), want);
        }
        assert_eq!(
            ShellError::Exit(Term::atom("boom")).render(),
            "** (exit) :boom\n"
        );
        assert_eq!(
            ShellError::Throw(Term::atom("ball")).render(),
            "** (throw) :ball\n"
        );
    }

    #[test]
    fn renders_like_iex() {
        let e = ShellError::match_error(&Term::Int(2));
        assert_eq!(
            e.render(),
            "** (MatchError) no match of right hand side value: 2\n"
        );
        let e = ShellError::invalid_destination(&Term::atom("undefined"), &Term::atom("hi"));
        assert_eq!(
            e.render(),
            "** (ArgumentError) errors were found at the given arguments:\n\n  \
             * 1st argument: invalid destination\n\n    :erlang.send(:undefined, :hi)"
        );
        let p = ParseError::Syntax(SyntaxIssue::new(1, 3, "unexpected token: )"));
        assert_eq!(
            p.to_shell_error("1 )").render(),
            "** (SyntaxError) iex:1:3: unexpected token: )\n    |\n  1 | 1 )\n    |   ^\n"
        );
    }
}
