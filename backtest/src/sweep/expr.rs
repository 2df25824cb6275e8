//! `--where` constraints: small boolean expressions over parameter values, e.g.
//! `fast < slow`, `slow >= 2 * fast && mode != "short"`.
//!
//! Grammar (usual precedence, left to right):
//! `or := and ("||" | "or") and …`, `and := not ("&&" | "and") not …`, `not := ("!" | "not") not
//! | cmp`, `cmp := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?`, `sum := prod (("+" |
//! "-") prod)…`, `prod := unary (("*" | "/" | "%") unary)…`, `unary := "-" unary | atom`,
//! `atom := number | "string" | true | false | NAME | "(" or ")"`.
//! Names are the swept parameters, then the strategy's fixed parameters from the
//! configuration. Numbers compare as f64; strings and booleans only with `==` / `!=`.

use std::collections::BTreeMap;

use super::space::ParamValue;

/// A parse or evaluation problem, naming the expression.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("--where {expr}: {reason}")]
pub struct ExprError {
    pub expr: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq)]
enum Node {
    Num(f64),
    Str(String),
    Bool(bool),
    Var(String),
    Neg(Box<Node>),
    Not(Box<Node>),
    Bin(Op, Box<Node>, Box<Node>),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Or,
    And,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Ident(String),
    Sym(&'static str),
}

/// A parsed constraint.
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    text: String,
    root: Node,
}

/// A value during evaluation.
#[derive(Clone, Debug, PartialEq)]
enum Val {
    Num(f64),
    Str(String),
    Bool(bool),
}

impl Val {
    fn of(p: &ParamValue) -> Val {
        match p {
            ParamValue::Int(i) => Val::Num(*i as f64),
            ParamValue::Float(f) => Val::Num(*f),
            ParamValue::Bool(b) => Val::Bool(*b),
            ParamValue::Str(s) => Val::Str(s.clone()),
        }
    }

    fn of_toml(v: &toml::Value) -> Option<Val> {
        match v {
            toml::Value::Integer(i) => Some(Val::Num(*i as f64)),
            toml::Value::Float(f) => Some(Val::Num(*f)),
            toml::Value::Boolean(b) => Some(Val::Bool(*b)),
            toml::Value::String(s) => Some(
                s.parse::<f64>()
                    .map(Val::Num)
                    .unwrap_or_else(|_| Val::Str(s.clone())),
            ),
            _ => None,
        }
    }
}

fn tokens(text: &str) -> Result<Vec<Tok>, String> {
    const SYMS: [&str; 18] = [
        "<=", ">=", "==", "!=", "&&", "||", "<", ">", "!", "+", "-", "*", "/", "%", "(", ")", "=",
        "&",
    ];
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || (c == '.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            let s = &text[start..i];
            out.push(Tok::Num(
                s.parse().map_err(|_| format!("bad number `{s}`"))?,
            ));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(text[start..i].to_string()));
        } else if c == '"' || c == '\'' {
            let end = text[i + 1..]
                .find(c)
                .ok_or_else(|| "unterminated string".to_string())?;
            out.push(Tok::Str(text[i + 1..i + 1 + end].to_string()));
            i += end + 2;
        } else {
            let sym = SYMS
                .iter()
                .find(|s| text[i..].starts_with(**s))
                .ok_or_else(|| format!("unexpected `{c}`"))?;
            if *sym == "=" || *sym == "&" {
                return Err(format!("unexpected `{sym}` (use `==` and `&&`)"));
            }
            out.push(Tok::Sym(sym));
            i += sym.len();
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek_sym(&self, sym: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Sym(s)) if *s == sym)
            || matches!(self.toks.get(self.pos), Some(Tok::Ident(w)) if word_sym(w) == Some(sym))
    }

    fn eat(&mut self, sym: &str) -> bool {
        if self.peek_sym(sym) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Node, String> {
        let mut l = self.and()?;
        while self.eat("||") {
            l = Node::Bin(Op::Or, Box::new(l), Box::new(self.and()?));
        }
        Ok(l)
    }

    fn and(&mut self) -> Result<Node, String> {
        let mut l = self.not()?;
        while self.eat("&&") {
            l = Node::Bin(Op::And, Box::new(l), Box::new(self.not()?));
        }
        Ok(l)
    }

    fn not(&mut self) -> Result<Node, String> {
        if self.eat("!") {
            return Ok(Node::Not(Box::new(self.not()?)));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Node, String> {
        let l = self.sum()?;
        for (sym, op) in [
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("<", Op::Lt),
            (">", Op::Gt),
            ("==", Op::Eq),
            ("!=", Op::Ne),
        ] {
            if self.eat(sym) {
                return Ok(Node::Bin(op, Box::new(l), Box::new(self.sum()?)));
            }
        }
        Ok(l)
    }

    fn sum(&mut self) -> Result<Node, String> {
        let mut l = self.prod()?;
        loop {
            let op = if self.eat("+") {
                Op::Add
            } else if self.eat("-") {
                Op::Sub
            } else {
                return Ok(l);
            };
            l = Node::Bin(op, Box::new(l), Box::new(self.prod()?));
        }
    }

    fn prod(&mut self) -> Result<Node, String> {
        let mut l = self.unary()?;
        loop {
            let op = if self.eat("*") {
                Op::Mul
            } else if self.eat("/") {
                Op::Div
            } else if self.eat("%") {
                Op::Rem
            } else {
                return Ok(l);
            };
            l = Node::Bin(op, Box::new(l), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Result<Node, String> {
        if self.eat("-") {
            return Ok(Node::Neg(Box::new(self.unary()?)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Node, String> {
        if self.eat("(") {
            let inner = self.or()?;
            if !self.eat(")") {
                return Err("missing `)`".into());
            }
            return Ok(inner);
        }
        let tok = self
            .toks
            .get(self.pos)
            .cloned()
            .ok_or_else(|| "unexpected end".to_string())?;
        self.pos += 1;
        match tok {
            Tok::Num(n) => Ok(Node::Num(n)),
            Tok::Str(s) => Ok(Node::Str(s)),
            Tok::Ident(w) if w == "true" => Ok(Node::Bool(true)),
            Tok::Ident(w) if w == "false" => Ok(Node::Bool(false)),
            Tok::Ident(w) if word_sym(&w).is_none() => Ok(Node::Var(w)),
            Tok::Ident(w) => Err(format!("unexpected `{w}`")),
            Tok::Sym(s) => Err(format!("unexpected `{s}`")),
        }
    }
}

/// `and`, `or`, `not` as words.
fn word_sym(w: &str) -> Option<&'static str> {
    match w {
        "and" => Some("&&"),
        "or" => Some("||"),
        "not" => Some("!"),
        _ => None,
    }
}

fn vars<'a>(n: &'a Node, out: &mut Vec<&'a str>) {
    match n {
        Node::Var(v) => out.push(v),
        Node::Neg(a) | Node::Not(a) => vars(a, out),
        Node::Bin(_, a, b) => {
            vars(a, out);
            vars(b, out);
        }
        _ => {}
    }
}

/// Names and values a constraint is evaluated against.
pub struct Scope<'a> {
    pub names: &'a [String],
    pub values: &'a [ParamValue],
    pub fixed: &'a toml::Table,
}

impl Constraint {
    /// Parse `text`; every name must be in `known`.
    pub fn parse(text: &str, known: &BTreeMap<String, ()>) -> Result<Constraint, ExprError> {
        let err = |reason: String| ExprError {
            expr: text.to_string(),
            reason,
        };
        let toks = tokens(text).map_err(err)?;
        let mut p = Parser { toks, pos: 0 };
        let root = p.or().map_err(err)?;
        if p.pos != p.toks.len() {
            return Err(err(format!(
                "unexpected `{:?}` after the expression",
                p.toks[p.pos]
            )));
        }
        let mut names = Vec::new();
        vars(&root, &mut names);
        if let Some(bad) = names.iter().find(|n| !known.contains_key(**n)) {
            let valid: Vec<&str> = known.keys().map(String::as_str).collect();
            return Err(err(format!(
                "unknown parameter `{bad}` (known: {})",
                valid.join(", ")
            )));
        }
        Ok(Constraint {
            text: text.to_string(),
            root,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Evaluate; the result must be a boolean.
    pub fn holds(&self, scope: &Scope) -> Result<bool, ExprError> {
        match eval(&self.root, scope).map_err(|reason| ExprError {
            expr: self.text.clone(),
            reason,
        })? {
            Val::Bool(b) => Ok(b),
            other => Err(ExprError {
                expr: self.text.clone(),
                reason: format!("is {other:?}, not true or false"),
            }),
        }
    }
}

fn eval(n: &Node, scope: &Scope) -> Result<Val, String> {
    Ok(match n {
        Node::Num(x) => Val::Num(*x),
        Node::Str(s) => Val::Str(s.clone()),
        Node::Bool(b) => Val::Bool(*b),
        Node::Var(name) => {
            if let Some(k) = scope.names.iter().position(|n| n == name) {
                Val::of(&scope.values[k])
            } else {
                scope
                    .fixed
                    .get(name)
                    .and_then(Val::of_toml)
                    .ok_or_else(|| format!("parameter `{name}` has no value"))?
            }
        }
        Node::Neg(a) => match eval(a, scope)? {
            Val::Num(x) => Val::Num(-x),
            v => return Err(format!("cannot negate {v:?}")),
        },
        Node::Not(a) => match eval(a, scope)? {
            Val::Bool(b) => Val::Bool(!b),
            v => return Err(format!("`!` needs true or false, got {v:?}")),
        },
        Node::Bin(op, a, b) => {
            let (l, r) = (eval(a, scope)?, eval(b, scope)?);
            binary(*op, l, r)?
        }
    })
}

fn binary(op: Op, l: Val, r: Val) -> Result<Val, String> {
    use Val::{Bool, Num};
    Ok(match (op, l, r) {
        (Op::Or, Bool(a), Bool(b)) => Bool(a || b),
        (Op::And, Bool(a), Bool(b)) => Bool(a && b),
        (Op::Eq, a, b) => Bool(a == b),
        (Op::Ne, a, b) => Bool(a != b),
        (Op::Lt, Num(a), Num(b)) => Bool(a < b),
        (Op::Le, Num(a), Num(b)) => Bool(a <= b),
        (Op::Gt, Num(a), Num(b)) => Bool(a > b),
        (Op::Ge, Num(a), Num(b)) => Bool(a >= b),
        (Op::Add, Num(a), Num(b)) => Num(a + b),
        (Op::Sub, Num(a), Num(b)) => Num(a - b),
        (Op::Mul, Num(a), Num(b)) => Num(a * b),
        (Op::Div, Num(a), Num(b)) => Num(a / b),
        (Op::Rem, Num(a), Num(b)) => Num(a % b),
        (op, l, r) => return Err(format!("cannot apply {op:?} to {l:?} and {r:?}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(names: &[&str]) -> BTreeMap<String, ()> {
        names.iter().map(|n| (n.to_string(), ())).collect()
    }

    #[test]
    fn expressions_evaluate() {
        let names: Vec<String> = ["fast", "slow", "mode", "on"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let values = [
            ParamValue::Int(10),
            ParamValue::Int(30),
            ParamValue::Str("long".into()),
            ParamValue::Bool(true),
        ];
        let fixed: toml::Table = toml::from_str("quantity = 100\nratio = \"0.5\"").unwrap();
        let scope = Scope {
            names: &names,
            values: &values,
            fixed: &fixed,
        };
        let k = known(&["fast", "slow", "mode", "on", "quantity", "ratio"]);
        let table = [
            ("fast < slow", true),
            ("fast<slow", true),
            ("slow >= 3 * fast", true),
            ("slow > 3 * fast", false),
            ("slow - fast == 20 && on", true),
            ("fast > slow || mode == 'long'", true),
            ("not (fast < slow) or false", false),
            ("!on", false),
            ("mode != \"short\" and quantity == 100", true),
            ("ratio * 2 == 1", true),
            ("-fast + 40 == slow", true),
            ("slow % 4 == 2", true),
            ("(fast + slow) / 2 == 20", true),
        ];
        for (text, want) in table {
            let c = Constraint::parse(text, &k).unwrap();
            assert_eq!(c.holds(&scope).unwrap(), want, "{text}");
        }
    }

    #[test]
    fn errors_name_the_expression() {
        let k = known(&["fast", "slow"]);
        let table = [
            (
                "fast < sloww",
                "unknown parameter `sloww` (known: fast, slow)",
            ),
            ("fast = slow", "use `==` and `&&`"),
            ("(fast < slow", "missing `)`"),
            ("fast <", "unexpected end"),
            ("fast slow", "after the expression"),
            ("fast # 2", "unexpected `#`"),
        ];
        for (text, want) in table {
            let e = Constraint::parse(text, &k).unwrap_err().to_string();
            assert!(e.starts_with(&format!("--where {text}: ")), "{e}");
            assert!(e.contains(want), "{text}: {e}");
        }
        let c = Constraint::parse("fast + slow", &k).unwrap();
        let names = vec!["fast".to_string(), "slow".to_string()];
        let values = [ParamValue::Int(1), ParamValue::Int(2)];
        let fixed = toml::Table::new();
        let e = c
            .holds(&Scope {
                names: &names,
                values: &values,
                fixed: &fixed,
            })
            .unwrap_err();
        assert!(e.to_string().contains("not true or false"), "{e}");
    }
}
