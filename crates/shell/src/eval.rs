//! The evaluator: walks `Expr`s over `etf::Term` values with a variable scope that persists
//! across prompts. Pure functions run here (see builtins.rs); anything touching the node goes
//! through the `Runtime`. Anonymous functions live in a table and travel as `&:ferl_shell_fn."N"/A`.

use crate::ast::{Clause, Expr, StrPart};
use crate::builtins;
use crate::error::ShellError;
use crate::pattern::match_pattern;
use crate::runtime::Runtime;
use etf::{Atom, Export, Term};
use std::collections::BTreeMap;

/// Variable bindings.
pub type Env = BTreeMap<String, Term>;

pub type EResult = Result<Term, ShellError>;

/// Module name under which shell closures are represented as `Term::Export`s.
pub const FN_MODULE: &str = "ferl_shell_fn";

/// Deepest nesting of `eval` calls (nested literals, closures calling closures): beyond it a
/// runaway recursive `fn` is a `SystemLimitError` instead of a stack overflow. Sized so a debug
/// build stays within a 2 MiB thread stack (tokio's and the test harness's default).
const MAX_EVAL_DEPTH: usize = 100;

/// A `fn` value: its clauses and the scope it closed over.
#[derive(Clone)]
pub struct Closure {
    pub clauses: Vec<Clause>,
    pub env: Env,
}

/// Evaluation state: the runtime, the persistent bindings and what the code printed.
pub struct Interp<R: Runtime> {
    pub runtime: R,
    pub bindings: Env,
    closures: Vec<Closure>,
    /// Text printed by `IO.puts`, `flush()`, warnings... during the current evaluation.
    pub output: String,
    /// Line number of the input being evaluated (iex numbers lines by prompt count).
    pub line: u32,
    depth: usize,
}

pub fn truthy(t: &Term) -> bool {
    !(t.is_atom("false") || t.is_atom("nil"))
}

pub fn bool_term(b: bool) -> Term {
    Term::from(b)
}

impl<R: Runtime> Interp<R> {
    pub fn new(runtime: R) -> Interp<R> {
        Interp {
            runtime,
            bindings: Env::new(),
            closures: Vec::new(),
            output: String::new(),
            line: 1,
            depth: 0,
        }
    }

    /// Evaluates top-level expressions; bindings are kept only if all of them succeed (as iex).
    pub fn eval_top(&mut self, exprs: &[Expr]) -> EResult {
        self.check_locals(exprs)?;
        let mut env = self.bindings.clone();
        let v = self.eval_seq(exprs, &mut env)?;
        self.bindings = env;
        Ok(v)
    }

    pub fn eval_seq(&mut self, exprs: &[Expr], env: &mut Env) -> EResult {
        let mut last = Term::atom("nil");
        for e in exprs {
            last = self.eval(e, env)?;
        }
        Ok(last)
    }

    pub fn eval(&mut self, e: &Expr, env: &mut Env) -> EResult {
        if self.depth >= MAX_EVAL_DEPTH {
            return Err(ShellError::exception(
                "SystemLimitError",
                "a system limit has been reached (shell evaluation depth)",
            ));
        }
        self.depth += 1;
        let r = self.eval_inner(e, env);
        self.depth -= 1;
        r
    }

    fn eval_inner(&mut self, e: &Expr, env: &mut Env) -> EResult {
        match e {
            Expr::Lit(t) => Ok(t.clone()),
            Expr::Str(parts) => Ok(Term::from(self.interpolate(parts, env)?)),
            Expr::Charlist(parts) => Ok(Term::charlist(&self.interpolate(parts, env)?)),
            Expr::Var(name, line) => match env.get(name) {
                Some(v) => Ok(v.clone()),
                None => self.undefined_var(name, *line),
            },
            Expr::Pin(name, line) => Err(ShellError::compile(
                *line,
                format!("cannot use ^{name} outside of match clauses"),
            )),
            Expr::Tuple(items) => Ok(Term::Tuple(self.eval_all(items, env)?)),
            Expr::List(items, tail) => {
                let mut vs = self.eval_all(items, env)?;
                match tail {
                    None => Ok(Term::List(vs)),
                    Some(t) => match self.eval(t, env)? {
                        Term::List(rest) => {
                            vs.extend(rest);
                            Ok(Term::List(vs))
                        }
                        Term::ImproperList(rest, t) => {
                            vs.extend(rest);
                            Ok(Term::ImproperList(vs, t))
                        }
                        other if vs.is_empty() => Ok(other),
                        other => Ok(Term::ImproperList(vs, Box::new(other))),
                    },
                }
            }
            Expr::Map(pairs) => {
                let mut m = Vec::new();
                for (k, v) in pairs {
                    let k = self.eval(k, env)?;
                    let v = self.eval(v, env)?;
                    builtins::map_put(&mut m, k, v);
                }
                Ok(Term::Map(m))
            }
            Expr::Bin(items) => {
                let mut bytes = Vec::new();
                for item in items {
                    match self.eval(item, env)? {
                        // Like Erlang's default `::8` segment, integers are taken modulo 256.
                        Term::Int(i) => bytes.push(i.rem_euclid(256) as u8),
                        Term::Binary(b) => bytes.extend_from_slice(&b),
                        other => {
                            return Err(ShellError::exception(
                                "ArgumentError",
                                format!("construction of binary failed: segment 1 of type 'integer': expected an integer but got: {}", other.elixir()),
                            ))
                        }
                    }
                }
                Ok(Term::binary(&bytes))
            }
            Expr::Struct(name, pairs) => {
                let mut m = vec![(Term::atom("__struct__"), name.clone())];
                for (k, v) in pairs {
                    let k = self.eval(k, env)?;
                    let v = self.eval(v, env)?;
                    builtins::map_put(&mut m, k, v);
                }
                Ok(Term::Map(m))
            }
            Expr::MapUpdate(base, pairs) => {
                let base = self.eval(base, env)?;
                let Term::Map(mut m) = base else {
                    return Err(ShellError::exception(
                        "BadMapError",
                        format!("expected a map, got: {}", base.elixir()),
                    ));
                };
                for (k, v) in pairs {
                    let k = self.eval(k, env)?;
                    let v = self.eval(v, env)?;
                    if !m.iter().any(|(mk, _)| *mk == k) {
                        return Err(ShellError::key_error(&k, &Term::Map(m)));
                    }
                    builtins::map_put(&mut m, k, v);
                }
                Ok(Term::Map(m))
            }
            Expr::Match(pat, rhs) => {
                let v = self.eval(rhs, env)?;
                match match_pattern(pat, &v, env)? {
                    Some(new) => {
                        env.extend(new);
                        Ok(v)
                    }
                    None => Err(ShellError::match_error(&v)),
                }
            }
            Expr::BinOp(op, a, b) => self.binop(op, a, b, env),
            Expr::Unary(op, a) => {
                let v = self.eval(a, env)?;
                crate::ops::unary(op, v)
            }
            Expr::Local(name, args, line) => {
                if !builtins::is_local(name, args.len()) {
                    return Err(ShellError::compile(
                        *line,
                        format!(
                            "undefined function {}/{} (there is no such import)",
                            name,
                            args.len()
                        ),
                    ));
                }
                let args = self.eval_all(args, env)?;
                builtins::local(self, name, args)
            }
            Expr::Remote(m, f, args) => {
                let m = self.eval(m, env)?;
                let args = self.eval_all(args, env)?;
                self.call_remote(m, f, args)
            }
            Expr::Dot(e, field) => {
                let v = self.eval(e, env)?;
                match &v {
                    Term::Map(_) => {
                        let k = Term::atom(field);
                        v.map_get(&k)
                            .cloned()
                            .ok_or_else(|| ShellError::key_error(&k, &v))
                    }
                    Term::Atom(_) => self.call_remote(v, field, Vec::new()),
                    _ => Err(ShellError::key_error(&Term::atom(field), &v)),
                }
            }
            Expr::Access(e, k) => {
                let v = self.eval(e, env)?;
                let k = self.eval(k, env)?;
                builtins::access(&v, &k)
            }
            Expr::Apply(f, args) => {
                let f = self.eval(f, env)?;
                let args = self.eval_all(args, env)?;
                self.apply(&f, args)
            }
            Expr::Case(subject, clauses) => {
                let v = self.eval(subject, env)?;
                match self.run_clauses(clauses, std::slice::from_ref(&v), env)? {
                    Some(r) => Ok(r),
                    None => Err(ShellError::exception(
                        "CaseClauseError",
                        format!("no case clause matching: {}", v.elixir()),
                    )),
                }
            }
            Expr::Cond(clauses) => {
                for c in clauses {
                    let mut scope = env.clone();
                    let test = c.patterns.first().cloned().unwrap_or(Expr::atom("nil"));
                    if truthy(&self.eval(&test, &mut scope)?) {
                        return self.eval_seq(&c.body, &mut scope);
                    }
                }
                Err(ShellError::exception(
                    "CondClauseError",
                    "no cond clause evaluated to a truthy value",
                ))
            }
            Expr::If(c, then, other) => {
                let mut scope = env.clone();
                let branch = if truthy(&self.eval(c, &mut scope)?) {
                    then
                } else {
                    other
                };
                self.eval_seq(branch, &mut scope)
            }
            Expr::Fn(clauses) => {
                let arity = clauses.first().map(|c| c.patterns.len()).unwrap_or(0);
                if clauses.iter().any(|c| c.patterns.len() != arity) {
                    return Err(ShellError::compile(
                        self.line,
                        "cannot mix clauses with different arities in anonymous functions",
                    ));
                }
                let idx = self.closures.len();
                self.closures.push(Closure {
                    clauses: clauses.clone(),
                    env: env.clone(),
                });
                Ok(Term::Export(Export {
                    module: Atom::new(FN_MODULE),
                    function: Atom::new(&idx.to_string()),
                    arity: arity.min(255) as u8,
                }))
            }
            Expr::Capture(m, f, arity) => {
                let module = match self.eval(m, env)? {
                    Term::Atom(a) => a,
                    other => {
                        return Err(ShellError::exception(
                            "ArgumentError",
                            format!(
                                "expected a module atom in &Mod.fun/arity, got: {}",
                                other.elixir()
                            ),
                        ))
                    }
                };
                Ok(Term::Export(Export {
                    module,
                    function: Atom::new(f),
                    arity: *arity,
                }))
            }
            Expr::Block(exprs) => self.eval_seq(exprs, env),
        }
    }

    /// Elixir compiles the whole input before running it, so a call to an unknown local
    /// function fails before anything (a `send`, say) has happened.
    fn check_locals(&self, exprs: &[Expr]) -> Result<(), ShellError> {
        let mut bad = None;
        for e in exprs {
            e.walk(&mut |x| {
                if let Expr::Local(name, args, line) = x {
                    if bad.is_none() && !builtins::is_local(name, args.len()) {
                        bad = Some((name.clone(), args.len(), *line));
                    }
                }
            });
        }
        match bad {
            Some((name, arity, line)) => Err(ShellError::compile(
                line,
                format!("undefined function {name}/{arity} (there is no such import)"),
            )),
            None => Ok(()),
        }
    }

    fn eval_all(&mut self, items: &[Expr], env: &mut Env) -> Result<Vec<Term>, ShellError> {
        items.iter().map(|e| self.eval(e, env)).collect()
    }

    /// Elixir 1.14 expands an unknown variable `x` to the call `x()`, warning first.
    fn undefined_var(&mut self, name: &str, line: u32) -> EResult {
        self.output.push_str(&format!(
            "warning: variable \"{name}\" does not exist and is being expanded to \"{name}()\", \
             please use parentheses to remove the ambiguity or change the variable name\n  \
             iex:{line}\n\n"
        ));
        if builtins::is_local(name, 0) {
            return builtins::local(self, name, Vec::new());
        }
        Err(ShellError::compile(
            line,
            format!("undefined function {name}/0 (there is no such import)"),
        ))
    }

    fn interpolate(&mut self, parts: &[StrPart], env: &mut Env) -> Result<String, ShellError> {
        let mut s = String::new();
        for p in parts {
            match p {
                StrPart::Lit(l) => s.push_str(l),
                StrPart::Expr(e) => {
                    let v = self.eval(e, env)?;
                    s.push_str(&builtins::to_string(&v)?);
                }
            }
        }
        Ok(s)
    }

    /// `Mod.fun(args)`: built-in pure modules first, then the runtime.
    pub fn call_remote(&mut self, m: Term, f: &str, args: Vec<Term>) -> EResult {
        let Term::Atom(module) = m else {
            return Err(ShellError::exception(
                "ArgumentError",
                format!(
                    "you attempted to apply a function named :{f} on {}. If you are using \
                     Kernel.apply/3, make sure the module is an atom. If you are using the dot \
                     syntax, such as map.field or module.function(), make sure the left-hand \
                     side of the dot is an atom or a map",
                    m.elixir()
                ),
            ));
        };
        if let Some(r) = crate::stdlib::remote(self, module.as_str(), f, &args) {
            return r;
        }
        self.runtime.call(module, Atom::new(f), args)
    }

    /// `f.(args)` for shell closures and `&Mod.fun/arity` captures.
    pub fn apply(&mut self, f: &Term, args: Vec<Term>) -> EResult {
        let Term::Export(ex) = f else {
            return Err(ShellError::exception(
                "BadFunctionError",
                format!("expected a function, got: {}", f.elixir()),
            ));
        };
        if ex.arity as usize != args.len() {
            return Err(ShellError::exception(
                "BadArityError",
                format!(
                    "{} with arity {} called with {} argument{}",
                    f.elixir(),
                    ex.arity,
                    args.len(),
                    if args.len() == 1 { "" } else { "s" }
                ),
            ));
        }
        if ex.module.as_str() != FN_MODULE {
            return self.call_remote(Term::Atom(ex.module), ex.function.as_str(), args);
        }
        let closure = ex
            .function
            .as_str()
            .parse::<usize>()
            .ok()
            .and_then(|i| self.closures.get(i).cloned());
        let Some(closure) = closure else {
            return Err(ShellError::exception(
                "BadFunctionError",
                format!("expected a function, got: {}", f.elixir()),
            ));
        };
        match self.run_clauses(&closure.clauses, &args, &closure.env)? {
            Some(v) => Ok(v),
            None => Err(ShellError::exception(
                "FunctionClauseError",
                "no function clause matching in anonymous fn/".to_string()
                    + &args.len().to_string(),
            )),
        }
    }

    /// Runs the first clause whose patterns match `values` and whose guard holds.
    fn run_clauses(
        &mut self,
        clauses: &[Clause],
        values: &[Term],
        env: &Env,
    ) -> Result<Option<Term>, ShellError> {
        'clauses: for c in clauses {
            if c.patterns.len() != values.len() {
                continue;
            }
            let mut scope = env.clone();
            for (p, v) in c.patterns.iter().zip(values) {
                match match_pattern(p, v, &scope)? {
                    Some(new) => scope.extend(new),
                    None => continue 'clauses,
                }
            }
            if let Some(g) = &c.guard {
                // Errors inside a guard mean "guard fails", as in Erlang.
                let mut gscope = scope.clone();
                match self.eval(g, &mut gscope) {
                    Ok(v) if v.is_atom("true") => {}
                    _ => continue,
                }
            }
            return self.eval_seq(&c.body, &mut scope).map(Some);
        }
        Ok(None)
    }

    fn binop(&mut self, op: &str, a: &Expr, b: &Expr, env: &mut Env) -> EResult {
        // Short-circuit operators evaluate the right side only when needed.
        match op {
            "&&" | "||" => {
                let l = self.eval(a, env)?;
                return if truthy(&l) == (op == "&&") {
                    self.eval(b, env)
                } else {
                    Ok(l)
                };
            }
            "and" | "or" => {
                let l = self.eval(a, env)?;
                let Term::Atom(la) = &l else {
                    return Err(ShellError::exception(
                        "BadBooleanError",
                        format!(
                            "expected a boolean on left-side of \"{op}\", got: {}",
                            l.elixir()
                        ),
                    ));
                };
                if la.as_str() != "true" && la.as_str() != "false" {
                    return Err(ShellError::exception(
                        "BadBooleanError",
                        format!(
                            "expected a boolean on left-side of \"{op}\", got: {}",
                            l.elixir()
                        ),
                    ));
                }
                return if (la.as_str() == "true") == (op == "and") {
                    self.eval(b, env)
                } else {
                    Ok(l)
                };
            }
            "when" => {
                return Err(ShellError::compile(
                    self.line,
                    "\"when\" is only allowed in clause heads",
                ))
            }
            ".." => {
                return Err(ShellError::compile(
                    self.line,
                    "ranges are not supported by the ferl shell",
                ))
            }
            _ => {}
        }
        let l = self.eval(a, env)?;
        let r = self.eval(b, env)?;
        crate::ops::binary(op, l, r)
    }
}
