//! Parse-time checks of Go `text/template` text, as Prometheus runs them on an alerting rule's
//! labels and annotations (`testTemplateParsing` in `model/rulefmt/rulefmt.go` of Prometheus
//! v0.309.1, which calls `Expander.ParseTest` in `template/template.go`).
//!
//! Prometheus parses each value after the prefix
//! `{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}`
//! with Prometheus' template functions, so those four variables and functions are defined.
//! This is a checker written after Go's `text/template/parse` (`lex.go`, `parse.go`,
//! `node.go` of Go 1.26, the toolchain the pinned Thanos is built with): it lexes and parses
//! like Go does and reports the same failures (unclosed actions and comments, bad numbers and
//! strings, unknown functions, undefined variables, unbalanced `if`/`range`/`with`/`define`/
//! `block`/`end`/`else`, `break`/`continue` outside `range`, empty and non-executable pipeline
//! stages, repeated `define`s). It builds no tree and executes nothing: what fails only when a
//! template runs (a missing field, a wrong argument type, a bad query) is not seen, exactly as
//! with Prometheus' own check.
//!
//! Known limits: parentheses nest at most 1000 deep here (Go allows 10000); complex-number
//! literals (`1+2i`) are accepted without checking their parts.

use std::collections::HashMap;

/// Go's built-in template functions (`text/template/funcs.go`, `builtins`).
const GO_BUILTINS: &[&str] = &[
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
    "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
];

/// Prometheus' template functions (`NewTemplateExpander` in `template/template.go`).
const PROMETHEUS_FUNCS: &[&str] = &[
    "query",
    "first",
    "label",
    "value",
    "strvalue",
    "args",
    "reReplaceAll",
    "safeHtml",
    "match",
    "title",
    "toUpper",
    "toLower",
    "graphLink",
    "tableLink",
    "sortByLabel",
    "stripPort",
    "stripDomain",
    "humanize",
    "humanizeDuration",
    "humanizePercentage",
    "humanizeTimestamp",
    "toTime",
    "toDuration",
    "now",
    "pathPrefix",
    "externalURL",
    "parseDuration",
    "urlQueryEscape",
];

/// The variables Prometheus' prefix declares before the text (plus Go's own `$`).
const PREDECLARED: &[&str] = &["$", "$labels", "$externalLabels", "$externalURL", "$value"];

/// Nesting limit for parentheses and blocks (Go's `maxStackDepth` is 10000 parentheses; this
/// checker recurses, so it stops earlier to stay well inside a thread's stack).
const MAX_DEPTH: usize = 1000;

/// Checks `text` as the template of an alerting rule named `alert` (the template's name is
/// `__alert_<alert>`, which a `{{define}}` in the text must not repeat).
pub fn check(alert: &str, text: &str) -> Result<(), String> {
    let tokens = lex(text)?;
    let mut p = Parser {
        tokens,
        i: 0,
        vars: PREDECLARED.iter().map(|v| v.to_string()).collect(),
        range_depth: 0,
        depth: 0,
        defined: HashMap::new(),
    };
    p.parse_top()?;
    // The main tree is added last (`Tree.Parse` → `add`); it is never empty (the prefix).
    p.add(&format!("__alert_{alert}"), true)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// Text outside actions; `true` when it is only white space.
    Text(bool),
    LeftDelim,
    RightDelim,
    Space,
    Identifier(String),
    Field,
    Variable(String),
    Dot,
    Nil,
    Bool,
    Number(String),
    CharConstant(String),
    Complex,
    Str(String),
    RawString,
    Char(char),
    Pipe,
    Assign,
    Declare,
    LeftParen,
    RightParen,
    Keyword(&'static str),
    Eof,
}

impl Tok {
    /// How Go's `item.String` shows a token in "unexpected ..." errors (roughly).
    fn show(&self) -> String {
        match self {
            Tok::Text(_) => "text".into(),
            Tok::LeftDelim => "\"{{\"".into(),
            Tok::RightDelim => "\"}}\"".into(),
            Tok::Space => "space".into(),
            Tok::Identifier(s) | Tok::Variable(s) | Tok::Number(s) | Tok::CharConstant(s) => {
                format!("{s:?}")
            }
            Tok::Str(s) => s.clone(),
            Tok::Keyword(k) => format!("<{k}>"),
            Tok::Char(c) => format!("{:?}", c.to_string()),
            Tok::Pipe => "\"|\"".into(),
            Tok::Assign => "\"=\"".into(),
            Tok::Declare => "\":=\"".into(),
            Tok::LeftParen => "\"(\"".into(),
            Tok::RightParen => "\")\"".into(),
            Tok::Eof => "EOF".into(),
            Tok::Dot => "<.>".into(),
            Tok::Nil => "<nil>".into(),
            other => format!("{other:?}").to_lowercase(),
        }
    }
}

const KEYWORDS: &[&str] = &[
    "block", "break", "continue", "define", "else", "end", "if", "range", "template", "with",
];

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

/// Go's lexer (`lex.go`), run to the end: the first lexical error is the template's error.
fn lex(input: &str) -> Result<Vec<Tok>, String> {
    let mut l = Lexer {
        s: input,
        pos: 0,
        out: Vec::new(),
    };
    l.run()?;
    Ok(l.out)
}

struct Lexer<'a> {
    s: &'a str,
    pos: usize,
    out: Vec<Tok>,
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn accept(&mut self, set: &str) -> bool {
        match self.peek() {
            Some(c) if set.contains(c) => {
                self.pos += c.len_utf8();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, set: &str) {
        while self.accept(set) {}
    }

    /// `atRightDelim`: `}}`, or ` -}}` (a trim marker).
    fn at_right_delim(&self) -> Option<bool> {
        let r = self.rest();
        if has_right_trim(r) && r[2..].starts_with("}}") {
            Some(true)
        } else if r.starts_with("}}") {
            Some(false)
        } else {
            None
        }
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) || ".,|:)(".contains(c) => true,
            _ => self.rest().starts_with("}}"),
        }
    }

    fn run(&mut self) -> Result<(), String> {
        loop {
            // Text up to the next action.
            match self.rest().find("{{") {
                None => {
                    if !self.rest().is_empty() {
                        self.out.push(Tok::Text(self.rest().trim().is_empty()));
                    }
                    self.out.push(Tok::Eof);
                    return Ok(());
                }
                Some(x) => {
                    if x > 0 {
                        let text = &self.rest()[..x];
                        self.out.push(Tok::Text(text.trim().is_empty()));
                    }
                    self.pos += x + 2;
                }
            }
            let trim = has_left_trim(self.rest());
            let after = if trim { 2 } else { 0 };
            if self.rest()[after..].starts_with("/*") {
                self.pos += after + 2;
                let Some(end) = self.rest().find("*/") else {
                    return Err("unclosed comment".into());
                };
                self.pos += end + 2;
                let Some(trim) = self.at_right_delim() else {
                    return Err("comment ends before closing delimiter".into());
                };
                self.pos += if trim { 4 } else { 2 };
                continue;
            }
            self.out.push(Tok::LeftDelim);
            self.pos += after;
            self.inside_action()?;
        }
    }

    /// Lexes one action up to and including its right delimiter.
    fn inside_action(&mut self) -> Result<(), String> {
        let mut parens: i32 = 0;
        loop {
            if let Some(trim) = self.at_right_delim() {
                if parens != 0 {
                    return Err("unclosed left paren".into());
                }
                self.pos += if trim { 4 } else { 2 };
                self.out.push(Tok::RightDelim);
                return Ok(());
            }
            let Some(c) = self.bump() else {
                return Err("unclosed action".into());
            };
            match c {
                c if is_space(c) => {
                    self.pos -= 1;
                    let start = self.pos;
                    while self.peek().is_some_and(is_space) {
                        self.pos += 1;
                    }
                    let n = self.pos - start;
                    // A space that starts ` -}}` belongs to the delimiter.
                    if has_right_trim(&self.s[self.pos - 1..])
                        && self.s[self.pos + 1..].starts_with("}}")
                    {
                        self.pos -= 1;
                        if n == 1 {
                            continue;
                        }
                    }
                    self.out.push(Tok::Space);
                }
                '=' => self.out.push(Tok::Assign),
                ':' => {
                    if self.bump() != Some('=') {
                        return Err("expected :=".into());
                    }
                    self.out.push(Tok::Declare);
                }
                '|' => self.out.push(Tok::Pipe),
                '"' => {
                    let start = self.pos - 1;
                    loop {
                        match self.bump() {
                            Some('\\') => match self.bump() {
                                None | Some('\n') => {
                                    return Err("unterminated quoted string".into());
                                }
                                _ => {}
                            },
                            None | Some('\n') => return Err("unterminated quoted string".into()),
                            Some('"') => break,
                            _ => {}
                        }
                    }
                    self.out.push(Tok::Str(self.s[start..self.pos].to_string()));
                }
                '`' => {
                    let Some(end) = self.rest().find('`') else {
                        return Err("unterminated raw quoted string".into());
                    };
                    self.pos += end + 1;
                    self.out.push(Tok::RawString);
                }
                '$' => {
                    let start = self.pos - 1;
                    if !self.at_terminator() {
                        self.field_or_variable()?;
                    }
                    self.out
                        .push(Tok::Variable(self.s[start..self.pos].to_string()));
                }
                '\'' => {
                    let start = self.pos - 1;
                    loop {
                        match self.bump() {
                            Some('\\') => match self.bump() {
                                None | Some('\n') => {
                                    return Err("unterminated character constant".into());
                                }
                                _ => {}
                            },
                            None | Some('\n') => {
                                return Err("unterminated character constant".into());
                            }
                            Some('\'') => break,
                            _ => {}
                        }
                    }
                    self.out
                        .push(Tok::CharConstant(self.s[start..self.pos].to_string()));
                }
                '.' if self.peek().is_some_and(|d| !d.is_ascii_digit()) => {
                    if self.at_terminator() {
                        self.out.push(Tok::Dot);
                    } else {
                        self.field_or_variable()?;
                        self.out.push(Tok::Field);
                    }
                }
                '.' | '+' | '-' | '0'..='9' => {
                    self.pos -= 1;
                    self.number()?;
                }
                c if is_alnum(c) => {
                    let start = self.pos - c.len_utf8();
                    while self.peek().is_some_and(is_alnum) {
                        self.bump();
                    }
                    if !self.at_terminator() {
                        return Err(bad_char(self.peek()));
                    }
                    let word = &self.s[start..self.pos];
                    let tok = match word {
                        "true" | "false" => Tok::Bool,
                        "nil" => Tok::Nil,
                        _ => match KEYWORDS.iter().find(|k| **k == word) {
                            Some(k) => Tok::Keyword(k),
                            None => Tok::Identifier(word.to_string()),
                        },
                    };
                    self.out.push(tok);
                }
                '(' => {
                    parens += 1;
                    self.out.push(Tok::LeftParen);
                }
                ')' => {
                    parens -= 1;
                    if parens < 0 {
                        return Err("unexpected right paren".into());
                    }
                    self.out.push(Tok::RightParen);
                }
                c if c.is_ascii() && !c.is_ascii_control() => self.out.push(Tok::Char(c)),
                c => {
                    return Err(format!(
                        "unrecognized character in action: U+{:04X}",
                        u32::from(c)
                    ));
                }
            }
        }
    }

    /// The rest of a `.Field` or `$var` name (`lexFieldOrVariable`).
    fn field_or_variable(&mut self) -> Result<(), String> {
        while self.peek().is_some_and(is_alnum) {
            self.bump();
        }
        if !self.at_terminator() {
            return Err(bad_char(self.peek()));
        }
        Ok(())
    }

    /// `lexNumber`/`scanNumber`: the shape of a Go number; its value is checked when parsed.
    fn number(&mut self) -> Result<(), String> {
        let start = self.pos;
        let ok = self.scan_number();
        let bad = |l: &Self| format!("bad number syntax: {:?}", &l.s[start..l.pos]);
        if !ok {
            return Err(bad(self));
        }
        if matches!(self.peek(), Some('+' | '-')) {
            if !self.scan_number() || !self.s[..self.pos].ends_with('i') {
                return Err(bad(self));
            }
            self.out.push(Tok::Complex);
            return Ok(());
        }
        self.out
            .push(Tok::Number(self.s[start..self.pos].to_string()));
        Ok(())
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if self.peek().is_some_and(is_alnum) {
            self.bump();
            return false;
        }
        true
    }
}

fn bad_char(c: Option<char>) -> String {
    match c {
        Some(c) => format!("bad character U+{:04X} '{c}'", u32::from(c)),
        None => "bad character at end of input".into(),
    }
}

fn has_left_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(b[1] as char)
}

fn has_right_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(b[0] as char) && b[1] == b'-'
}

/// What the parser needs to know of a parsed action or text (`parse.go` node types).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Item {
    /// Text that is only white space (keeps a `define` empty).
    BlankText,
    End,
    Else,
    Other,
}

/// The kind of a command's first operand, for `checkPipeline` and field chains.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Operand {
    Literal,
    Executable,
}

struct Parser {
    tokens: Vec<Tok>,
    i: usize,
    vars: Vec<String>,
    range_depth: usize,
    depth: usize,
    /// `define`d (and `block`) template names → whether the definition is non-empty.
    defined: HashMap<String, bool>,
}

type Res<T> = Result<T, String>;

impl Parser {
    fn peek(&self) -> &Tok {
        &self.tokens[self.i.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.i < self.tokens.len() - 1 {
            self.i += 1;
        }
        t
    }

    fn skip_space(&mut self) {
        while *self.peek() == Tok::Space {
            self.i += 1;
        }
    }

    fn next_non_space(&mut self) -> Tok {
        self.skip_space();
        self.next()
    }

    fn peek_non_space(&mut self) -> Tok {
        self.skip_space();
        self.peek().clone()
    }

    fn unexpected<T>(&self, tok: &Tok, context: &str) -> Res<T> {
        Err(format!("unexpected {} in {context}", tok.show()))
    }

    fn expect(&mut self, want: &Tok, context: &str) -> Res<()> {
        let t = self.next_non_space();
        if &t != want {
            return self.unexpected(&t, context);
        }
        Ok(())
    }

    /// `Tree.add`: a name may be defined twice only if one definition is empty.
    fn add(&mut self, name: &str, non_empty: bool) -> Res<()> {
        match self.defined.get(name) {
            Some(true) if non_empty => Err(format!(
                "template: multiple definition of template {name:?}"
            )),
            Some(true) => Ok(()),
            _ => {
                self.defined.insert(name.to_string(), non_empty);
                Ok(())
            }
        }
    }

    /// `Tree.parse`: items to EOF, with `{{define}}` allowed only here.
    fn parse_top(&mut self) -> Res<()> {
        while *self.peek() != Tok::Eof {
            if *self.peek() == Tok::LeftDelim {
                let save = self.i;
                self.next();
                if self.next_non_space() == Tok::Keyword("define") {
                    self.parse_definition()?;
                    continue;
                }
                self.i = save;
            }
            match self.text_or_action()? {
                Item::End => return Err("unexpected {{end}}".into()),
                Item::Else => return Err("unexpected {{else}}".into()),
                _ => {}
            }
        }
        Ok(())
    }

    /// Parses a nested template body (`define`, `block`): its own variables and range depth.
    fn nested_tree(&mut self, context: &str) -> Res<bool> {
        let vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let range_depth = std::mem::replace(&mut self.range_depth, 0);
        let (non_empty, end) = self.item_list()?;
        self.vars = vars;
        self.range_depth = range_depth;
        if end != Item::End {
            return Err(format!("unexpected {{{{else}}}} in {context}"));
        }
        Ok(non_empty)
    }

    fn parse_definition(&mut self) -> Res<()> {
        const CONTEXT: &str = "define clause";
        let t = self.next_non_space();
        let name = match &t {
            Tok::Str(s) => unquote(s)?,
            Tok::RawString => String::new(),
            _ => return self.unexpected(&t, CONTEXT),
        };
        self.expect(&Tok::RightDelim, CONTEXT)?;
        let non_empty = self.nested_tree(CONTEXT)?;
        self.add(&name, non_empty)
    }

    /// `itemList`: items up to `{{end}}` or `{{else}}`; whether any is non-empty.
    fn item_list(&mut self) -> Res<(bool, Item)> {
        let mut non_empty = false;
        while self.peek_non_space() != Tok::Eof {
            match self.text_or_action()? {
                end @ (Item::End | Item::Else) => return Ok((non_empty, end)),
                Item::BlankText => {}
                Item::Other => non_empty = true,
            }
        }
        Err("unexpected EOF".into())
    }

    fn text_or_action(&mut self) -> Res<Item> {
        match self.next_non_space() {
            Tok::Text(blank) => Ok(if blank { Item::BlankText } else { Item::Other }),
            Tok::LeftDelim => self.action(),
            t => self.unexpected(&t, "input"),
        }
    }

    fn action(&mut self) -> Res<Item> {
        let t = self.next_non_space();
        match t {
            Tok::Keyword("block") => self.block_control(),
            Tok::Keyword(k @ ("break" | "continue")) => {
                let t = self.next_non_space();
                if t != Tok::RightDelim {
                    return self.unexpected(&t, &format!("{{{{{k}}}}}"));
                }
                if self.range_depth == 0 {
                    return Err(format!("{{{{{k}}}}} outside {{{{range}}}}"));
                }
                Ok(Item::Other)
            }
            Tok::Keyword("else") => {
                let p = self.peek_non_space();
                if !matches!(p, Tok::Keyword("if" | "with")) {
                    self.expect(&Tok::RightDelim, "else")?;
                }
                Ok(Item::Else)
            }
            Tok::Keyword("end") => {
                self.expect(&Tok::RightDelim, "end")?;
                Ok(Item::End)
            }
            Tok::Keyword(k @ ("if" | "range" | "with")) => self.control(k),
            Tok::Keyword("template") => self.template_control(),
            _ => {
                self.i -= 1;
                self.pipeline("command", &Tok::RightDelim)?;
                Ok(Item::Other)
            }
        }
    }

    /// `parseControl`: the pipeline, the body, an optional `else` (or `else if`/`else with`)
    /// part, and `end`; variables declared inside go out of scope at the end.
    fn control(&mut self, context: &'static str) -> Res<Item> {
        if self.depth >= MAX_DEPTH {
            return Err("max expression depth exceeded".into());
        }
        self.depth += 1;
        let result = self.control_body(context);
        self.depth -= 1;
        result
    }

    fn control_body(&mut self, context: &'static str) -> Res<Item> {
        let saved = self.vars.len();
        self.pipeline(context, &Tok::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let (_, next) = self.item_list()?;
        if context == "range" {
            self.range_depth -= 1;
        }
        if next == Item::Else {
            match (context, self.peek()) {
                ("if", Tok::Keyword("if")) | ("with", Tok::Keyword("with")) => {
                    self.next();
                    self.control(context)?;
                }
                _ => {
                    let (_, end) = self.item_list()?;
                    if end != Item::End {
                        return Err("expected end; found {{else}}".into());
                    }
                }
            }
        }
        self.vars.truncate(saved);
        Ok(Item::Other)
    }

    fn template_name(&mut self, context: &str) -> Res<String> {
        let t = self.next_non_space();
        match &t {
            Tok::Str(s) => unquote(s),
            Tok::RawString => Ok(String::new()),
            _ => self.unexpected(&t, context),
        }
    }

    fn block_control(&mut self) -> Res<Item> {
        const CONTEXT: &str = "block clause";
        let name = self.template_name(CONTEXT)?;
        self.pipeline(CONTEXT, &Tok::RightDelim)?;
        let non_empty = self.nested_tree(CONTEXT)?;
        self.add(&name, non_empty)?;
        Ok(Item::Other)
    }

    fn template_control(&mut self) -> Res<Item> {
        const CONTEXT: &str = "template clause";
        self.template_name(CONTEXT)?;
        if self.next_non_space() != Tok::RightDelim {
            self.i -= 1;
            self.pipeline(CONTEXT, &Tok::RightDelim)?;
        }
        Ok(Item::Other)
    }

    /// `pipeline`: optional declarations, then commands separated by `|`, up to `end`.
    fn pipeline(&mut self, context: &str, end: &Tok) -> Res<()> {
        let mut decls = 0;
        while let Tok::Variable(v) = self.peek_non_space() {
            let at = self.i;
            self.next();
            match self.peek_non_space() {
                Tok::Assign | Tok::Declare => {
                    self.next();
                    self.vars.push(v);
                    break;
                }
                Tok::Char(',') => {
                    self.next();
                    self.vars.push(v);
                    decls += 1;
                    if context == "range" && decls < 2 {
                        match self.peek_non_space() {
                            Tok::Variable(_) | Tok::RightDelim | Tok::RightParen => continue,
                            _ => return Err("range can only initialize variables".into()),
                        }
                    }
                    return Err(format!("too many declarations in {context}"));
                }
                _ => {
                    self.i = at;
                    break;
                }
            }
        }
        let mut commands: Vec<Operand> = Vec::new();
        loop {
            let t = self.next_non_space();
            if &t == end {
                if commands.is_empty() {
                    return Err(format!("missing value for {context}"));
                }
                if let Some(stage) = commands.iter().skip(1).position(|c| *c == Operand::Literal) {
                    return Err(format!(
                        "non executable command in pipeline stage {}",
                        stage + 2
                    ));
                }
                return Ok(());
            }
            match t {
                Tok::Bool
                | Tok::CharConstant(_)
                | Tok::Complex
                | Tok::Dot
                | Tok::Field
                | Tok::Identifier(_)
                | Tok::Number(_)
                | Tok::Nil
                | Tok::RawString
                | Tok::Str(_)
                | Tok::Variable(_)
                | Tok::LeftParen => {
                    self.i -= 1;
                    commands.push(self.command()?);
                }
                t => return self.unexpected(&t, context),
            }
        }
    }

    /// `command`: space-separated operands up to `|` (consumed) or a closing delimiter.
    fn command(&mut self) -> Res<Operand> {
        let mut first = None;
        loop {
            self.skip_space();
            if let Some(op) = self.operand()? {
                first.get_or_insert(op);
            }
            match self.next() {
                Tok::Space => continue,
                Tok::RightDelim | Tok::RightParen => self.i -= 1,
                Tok::Pipe => {}
                t => return self.unexpected(&t, "operand"),
            }
            break;
        }
        first.ok_or_else(|| "empty command".to_string())
    }

    /// `operand`: a term and any `.Field` chain after it.
    fn operand(&mut self) -> Res<Option<Operand>> {
        let Some(term) = self.term()? else {
            return Ok(None);
        };
        if *self.peek() == Tok::Field {
            while *self.peek() == Tok::Field {
                self.next();
            }
            if term == Operand::Literal {
                return Err("unexpected . after term".into());
            }
        }
        Ok(Some(term))
    }

    fn term(&mut self) -> Res<Option<Operand>> {
        let t = self.next_non_space();
        let op = match t {
            Tok::Identifier(name) => {
                if !GO_BUILTINS.contains(&name.as_str())
                    && !PROMETHEUS_FUNCS.contains(&name.as_str())
                {
                    return Err(format!("function {name:?} not defined"));
                }
                Operand::Executable
            }
            Tok::Dot | Tok::Nil | Tok::Bool => Operand::Literal,
            Tok::Variable(v) => {
                let head = match v[1..].find('.') {
                    Some(dot) => &v[..dot + 1],
                    None => v.as_str(),
                };
                if !self.vars.iter().any(|d| d == head) {
                    return Err(format!("undefined variable {head:?}"));
                }
                Operand::Executable
            }
            Tok::Field => Operand::Executable,
            Tok::Number(n) => {
                check_number(&n)?;
                Operand::Literal
            }
            Tok::CharConstant(c) => {
                check_char(&c)?;
                Operand::Literal
            }
            Tok::Complex => Operand::Literal,
            Tok::LeftParen => {
                if self.depth >= MAX_DEPTH {
                    return Err("max expression depth exceeded".into());
                }
                self.depth += 1;
                let r = self.pipeline("parenthesized pipeline", &Tok::RightParen);
                self.depth -= 1;
                r?;
                Operand::Executable
            }
            Tok::Str(s) => {
                unquote(&s)?;
                Operand::Literal
            }
            Tok::RawString => Operand::Literal,
            _ => {
                self.i -= 1;
                return Ok(None);
            }
        };
        Ok(Some(op))
    }
}

/// Go's `strconv.Unquote` of a double-quoted literal (with its quotes).
pub(super) fn unquote(quoted: &str) -> Res<String> {
    let inner = quoted
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or_else(|| "invalid syntax".to_string())?;
    let mut out = String::new();
    let mut rest = inner;
    while !rest.is_empty() {
        if rest.starts_with('"') || rest.starts_with('\n') {
            return Err("invalid syntax".into());
        }
        let (c, tail) = unquote_char(rest, '"')?;
        out.push(c);
        rest = tail;
    }
    Ok(out)
}

/// Go's `strconv.UnquoteChar`: one character or escape of a literal quoted with `quote`.
fn unquote_char(s: &str, quote: char) -> Res<(char, &str)> {
    let bad = || "invalid syntax".to_string();
    let mut chars = s.chars();
    let c = chars.next().ok_or_else(bad)?;
    if c != '\\' {
        if c == quote && (quote == '\'' || quote == '"') {
            return Err(bad());
        }
        return Ok((c, chars.as_str()));
    }
    let e = chars.next().ok_or_else(bad)?;
    let rest = chars.as_str();
    let simple = match e {
        'a' => Some('\u{7}'),
        'b' => Some('\u{8}'),
        'f' => Some('\u{c}'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\u{b}'),
        '\\' => Some('\\'),
        '\'' | '"' if e == quote => Some(e),
        _ => None,
    };
    if let Some(c) = simple {
        return Ok((c, rest));
    }
    let (len, radix) = match e {
        'x' => (2, 16),
        'u' => (4, 16),
        'U' => (8, 16),
        '0'..='7' => (2, 8),
        _ => return Err(bad()),
    };
    let digits = rest.get(..len).ok_or_else(bad)?;
    let v = if radix == 8 {
        let all = format!("{e}{digits}");
        u32::from_str_radix(&all, 8).map_err(|_| bad())?
    } else {
        u32::from_str_radix(digits, radix).map_err(|_| bad())?
    };
    if radix == 8 && v > 255 {
        return Err(bad());
    }
    // `\x` and octal escapes are bytes (always valid); `\u`/`\U` must be Unicode scalars.
    let c = char::from_u32(v).ok_or_else(bad)?;
    Ok((c, &rest[len..]))
}

/// `newNumber` for a character constant: exactly one character or escape between quotes.
fn check_char(lit: &str) -> Res<()> {
    let inner = &lit[1..];
    let (_, tail) = unquote_char(inner, '\'')?;
    if tail != "'" {
        return Err(format!("malformed character constant: {lit}"));
    }
    Ok(())
}

/// `newNumber` for a number token: an imaginary literal, an integer that fits 64 bits, or a
/// float; an integer too big for 64 bits is an "integer overflow".
fn check_number(text: &str) -> Res<()> {
    if let Some(im) = text.strip_suffix('i')
        && parse_go_float(im)
    {
        return Ok(());
    }
    if parse_go_int(text) {
        return Ok(());
    }
    if parse_go_float(text) {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!("integer overflow: {text:?}"));
        }
        return Ok(());
    }
    Err(format!("illegal number syntax: {text:?}"))
}

/// Underscores only between digits (or right after a base prefix), as Go's literals allow.
fn underscores_ok(digits: &str, after_prefix: bool) -> bool {
    if digits.starts_with('_') && !after_prefix {
        return false;
    }
    !digits.ends_with('_') && !digits.contains("__")
}

/// `strconv.ParseInt`/`ParseUint` with base 0 and 64 bits.
fn parse_go_int(text: &str) -> bool {
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits, prefixed) =
        if let Some(d) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
            (16, d, true)
        } else if let Some(d) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
            (8, d, true)
        } else if let Some(d) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
            (2, d, true)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..], true)
        } else {
            (10, body, false)
        };
    if digits.is_empty() || !underscores_ok(digits, prefixed) {
        return false;
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if clean.is_empty() || !clean.chars().all(|c| c.is_digit(radix)) {
        return false;
    }
    match u128::from_str_radix(&clean, radix) {
        Ok(v) if neg => v <= 1u128 << 63,
        Ok(v) => v <= u128::from(u64::MAX),
        Err(_) => false,
    }
}

/// `strconv.ParseFloat` for the shapes the lexer produces: decimal with optional fraction and
/// exponent, or a hexadecimal mantissa with a `p` exponent.
fn parse_go_float(text: &str) -> bool {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    if let Some(hex) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        let Some((mant, exp)) = hex.split_once(['p', 'P']) else {
            return false;
        };
        let mant: String = mant.chars().filter(|&c| c != '_').collect();
        let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        let (int, frac) = mant.split_once('.').unwrap_or((&mant, ""));
        return !(int.is_empty() && frac.is_empty())
            && int
                .chars()
                .chain(frac.chars())
                .all(|c| c.is_ascii_hexdigit())
            && !exp.is_empty()
            && exp.chars().all(|c| c.is_ascii_digit());
    }
    if body.contains('_') || body.is_empty() {
        return false;
    }
    body.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        && body.parse::<f64>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn accepts_what_go_parses() {
        for ok in [
            "plain text",
            "{{ $labels.instance }} is down",
            "{{ $value | humanize }}",
            "{{ printf \"%.2f\" $value }}",
            "{{- if gt $value 0.5 -}} high {{- else if lt $value 0.1 }} low {{ else }} mid {{ end }}",
            "{{ range $i, $e := query \"up\" }}{{ $e.Labels.job }}{{ break }}{{ end }}",
            "{{ with $labels.x }}{{ . }}{{ else with $labels.y }}{{ . }}{{ end }}",
            "{{/* a comment */}}",
            "{{ define \"x\" }}hi{{ end }}{{ template \"x\" }}",
            "{{ $x := 1 }}{{ $x = 2 }}{{ $x }}",
            "{{ 'a' }} {{ 0x1F }} {{ 1e3 }} {{ -2 }} {{ `raw` }}",
            "{{ (query \"up\" | first | value) }}",
            "{{ $externalURL }}/{{ $externalLabels.cluster }}",
            "{{ .Labels.job }}",
            "{{ index $labels \"job\" }}",
        ] {
            assert_eq!(check("a", ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn refuses_what_go_refuses() {
        for bad in [
            "{{ $labels.instance",
            "{{ foo }}",
            "{{ $undefined }}",
            "{{ if true }}",
            "{{ end }}",
            "{{ else }}",
            "{{ break }}",
            "{{ }}",
            "{{ $value | 3 }}",
            "{{ \"x\".y }}",
            "{{/* open",
            "{{ \"open }}",
            "{{ 1x }}",
            "{{ 99999999999999999999 }}",
            "{{ range $a, $b, $c := . }}{{ end }}",
            "{{ if . }}{{ $x := 1 }}{{ end }}{{ $x }}",
            "{{ define \"x\" }}{{ $labels }}{{ end }}",
            "{{ define \"__alert_a\" }}x{{ end }}",
            "{{ template x }}",
            "{{ ( }}",
            "{{ \"\\q\" }}",
        ] {
            assert!(check("a", bad).is_err(), "{bad} must be refused");
        }
    }
}
