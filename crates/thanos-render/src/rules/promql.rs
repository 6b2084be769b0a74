//! PromQL expression checks: what Prometheus' `parser.ParseExpr` (v0.309.1, the version the
//! pinned Thanos v0.42.5 links) refuses when `thanos tools rules-check` runs it with the
//! parser's default options.
//!
//! Syntax and type checks come from the `promql-parser` crate (it tracks Prometheus v3.8's
//! grammar). Its function table is a little wider than the pinned parser's, and it does not
//! gate experimental features, so the parsed tree is walked once more here: a function must be
//! in [`STABLE_FUNCTIONS`] (taken from `promql/parser/functions.go`), and the experimental
//! functions and aggregators are refused as Prometheus does unless
//! `--enable-feature=promql-experimental-functions` is set, which rules-check never sets
//! (`parser.EnableExperimentalFunctions`, set only by `thanos rule`/`query` flags in
//! cmd/thanos/rule.go). Duration arithmetic and the `anchored`/`smoothed` modifiers are
//! likewise off by default; the crate's grammar does not accept them at all.

use promql_parser::label::{MatchOp, Matchers};
use promql_parser::parser::{self, Expr, VectorSelector};
use regex_syntax::ast::{self, Ast, RepetitionKind, RepetitionRange};

/// The functions `promql/parser/functions.go` defines without `Experimental: true`.
const STABLE_FUNCTIONS: &[&str] = &[
    "abs",
    "absent",
    "absent_over_time",
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atanh",
    "avg_over_time",
    "ceil",
    "changes",
    "clamp",
    "clamp_max",
    "clamp_min",
    "cos",
    "cosh",
    "count_over_time",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "days_in_month",
    "deg",
    "delta",
    "deriv",
    "exp",
    "floor",
    "histogram_avg",
    "histogram_count",
    "histogram_fraction",
    "histogram_quantile",
    "histogram_stddev",
    "histogram_stdvar",
    "histogram_sum",
    "hour",
    "idelta",
    "increase",
    "irate",
    "label_join",
    "label_replace",
    "last_over_time",
    "ln",
    "max_over_time",
    "min_over_time",
    "minute",
    "month",
    "pi",
    "predict_linear",
    "present_over_time",
    "quantile_over_time",
    "rad",
    "rate",
    "resets",
    "round",
    "scalar",
    "sgn",
    "sin",
    "sinh",
    "sort",
    "sort_desc",
    "sqrt",
    "stddev_over_time",
    "stdvar_over_time",
    "sum_over_time",
    "tan",
    "tanh",
    "time",
    "timestamp",
    "vector",
    "year",
];

/// The functions `functions.go` marks `Experimental: true`.
const EXPERIMENTAL_FUNCTIONS: &[&str] = &[
    "double_exponential_smoothing",
    "first_over_time",
    "info",
    "mad_over_time",
    "sort_by_label",
    "sort_by_label_desc",
    "ts_of_first_over_time",
    "ts_of_last_over_time",
    "ts_of_max_over_time",
    "ts_of_min_over_time",
];

/// The aggregators `ItemType.IsExperimentalAggregator` names (`promql/parser/lex.go`).
const EXPERIMENTAL_AGGREGATORS: &[&str] = &["limitk", "limit_ratio"];

/// Checks one rule expression; the error says what is wrong in Prometheus' words where they
/// are known.
pub fn check(expr: &str) -> Result<(), String> {
    let expr = lexical_prepass(expr)?;
    let ast = parser::parse(&expr).map_err(|e| e.trim().to_string())?;
    gate(&ast)
}

/// What the crate's lexer reads differently from Prometheus', fixed on the text before
/// parsing (outside string literals and comments):
/// - digit separators (`1_000`), which Prometheus' number syntax takes and the crate does not:
///   an underscore between two decimal digits of a plain decimal number is dropped;
/// - zero durations: Prometheus takes `0s` as a number or an offset and refuses a zero range
///   or step (`foo[0]`, `foo[5m:0s]`: "duration must be greater than 0"); the crate refuses
///   every zero duration and takes a zero number as a range. Outside brackets a zero duration
///   becomes `0`; inside, any zero is refused here;
/// - `@` timestamps: Prometheus refuses one at or beyond ±2^63 seconds, the crate saturates
///   it instead (`setTimestamp` in `promql/parser/parse.go`).
fn lexical_prepass(expr: &str) -> Result<String, String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = String::with_capacity(expr.len());
    let mut i = 0;
    let mut brackets: i32 = 0;
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == ':' || c == '.';
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' | '\'' | '`' => {
                out.push(c);
                i += 1;
                while i < chars.len() {
                    out.push(chars[i]);
                    if chars[i] == '\\' && c != '`' && i + 1 < chars.len() {
                        out.push(chars[i + 1]);
                        i += 2;
                        continue;
                    }
                    i += 1;
                    if chars[i - 1] == c {
                        break;
                    }
                }
            }
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    out.push(chars[i]);
                    i += 1;
                }
            }
            '0'..='9'
                if i == 0 || !ident(chars[i - 1]) || (brackets > 0 && chars[i - 1] == ':') =>
            {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let raw = &chars[start..i];
                // Separators are dropped from plain numbers only: Prometheus refuses them in
                // durations (`1_0m`), and so does the crate.
                let plain = raw.iter().all(|c| c.is_ascii_digit() || *c == '_');
                let token: String = raw
                    .iter()
                    .enumerate()
                    .filter(|&(k, c)| {
                        let k = start + k;
                        *c != '_'
                            || !plain
                            || !(chars[k - 1].is_ascii_digit()
                                && chars.get(k + 1).is_some_and(char::is_ascii_digit))
                    })
                    .map(|(_, c)| *c)
                    .collect();
                let zero_number = token.chars().all(|c| c == '0');
                let zero_duration = zero_duration(&token) == Some(true);
                if brackets > 0 && (zero_number || zero_duration) {
                    return Err("duration must be greater than 0".into());
                }
                out.push_str(if zero_duration { "0" } else { &token });
            }
            '[' | ']' => {
                brackets += if c == '[' { 1 } else { -1 };
                out.push(c);
                i += 1;
            }
            '@' => {
                out.push(c);
                i += 1;
                let mut j = i;
                while j < chars.len() && chars[j].is_whitespace() {
                    j += 1;
                }
                let start = j;
                while j < chars.len()
                    && (chars[j].is_ascii_alphanumeric()
                        || matches!(chars[j], '.' | '_')
                        || (matches!(chars[j], '+' | '-')
                            && (j == start || matches!(chars[j - 1], 'e' | 'E'))))
                {
                    j += 1;
                }
                let number: String = chars[start..j].iter().filter(|c| **c != '_').collect();
                if let Ok(ts) = number.parse::<f64>()
                    && (!ts.is_finite() || ts >= i64::MAX as f64 || ts <= i64::MIN as f64)
                {
                    return Err(format!("timestamp out of bounds for @ modifier: {number}"));
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// `Some(true)` for a duration literal whose every part is zero (`0s`, `0m0s`), `Some(false)`
/// for another duration literal (`5m`), `None` for anything else.
fn zero_duration(token: &str) -> Option<bool> {
    let mut rest = token;
    let mut zero = true;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        zero &= rest[..digits].bytes().all(|b| b == b'0');
        rest = &rest[digits..];
        let unit = ["ms", "s", "m", "h", "d", "w", "y"]
            .into_iter()
            .find(|u| rest.starts_with(u))?;
        rest = &rest[unit.len()..];
    }
    Some(zero)
}

/// Label matchers: no `or` groups (a newer syntax Prometheus v0.309.1 does not have), and
/// regexes that Go's `regexp/syntax` accepts too.
fn check_matchers(m: &Matchers) -> Result<(), String> {
    if !m.or_matchers.is_empty() {
        return Err("unexpected identifier \"or\" in label matching".into());
    }
    for matcher in &m.matchers {
        if let MatchOp::Re(_) | MatchOp::NotRe(_) = matcher.op {
            check_re2(&matcher.value)
                .map_err(|e| format!("error parsing regexp: {e}: `{}`", matcher.value))?;
        }
    }
    Ok(())
}

/// Go's RE2 parser refuses what Rust's regex accepts: a repetition applied directly to another
/// (`a**`, `a++`, `a{2}*`; "invalid nested repetition operator") and counted repetitions over
/// 1000, alone or multiplied through nesting ("invalid repeat count"; `repeatIsValid` in
/// `regexp/syntax/parse.go`).
fn check_re2(pattern: &str) -> Result<(), String> {
    let Ok(tree) = ast::parse::Parser::new().parse(pattern) else {
        // The crate compiled it already; a pattern Rust cannot parse never gets here.
        return Ok(());
    };
    fn walk(node: &Ast, budget: u32) -> Result<(), String> {
        match node {
            Ast::Repetition(rep) => {
                if let Ast::Repetition(_) = &*rep.ast {
                    return Err("invalid nested repetition operator".into());
                }
                let mut budget = budget;
                if let RepetitionKind::Range(range) = &rep.op.kind {
                    let max = match *range {
                        RepetitionRange::Exactly(n) | RepetitionRange::AtLeast(n) => n,
                        RepetitionRange::Bounded(min, max) => max.max(min),
                    };
                    if max > budget {
                        return Err("invalid repeat count".into());
                    }
                    budget = budget.checked_div(max).unwrap_or(budget);
                }
                walk(&rep.ast, budget)
            }
            Ast::Group(g) => walk(&g.ast, budget),
            Ast::Alternation(a) => a.asts.iter().try_for_each(|n| walk(n, budget)),
            Ast::Concat(c) => c.asts.iter().try_for_each(|n| walk(n, budget)),
            _ => Ok(()),
        }
    }
    walk(&tree, 1000)
}

fn check_selector(vs: &VectorSelector) -> Result<(), String> {
    check_matchers(&vs.matchers)
}

/// Refuses what the pinned Prometheus parser does not enable by default.
fn gate(expr: &Expr) -> Result<(), String> {
    match expr {
        Expr::Call(call) => {
            let name = call.func.name;
            if EXPERIMENTAL_FUNCTIONS.contains(&name) {
                return Err(format!(
                    "function {name:?} is not enabled (experimental in Prometheus; `thanos tools rules-check` refuses it)"
                ));
            }
            if !STABLE_FUNCTIONS.contains(&name) {
                return Err(format!("unknown function with name {name:?}"));
            }
            call.args.args.iter().try_for_each(|a| gate(a))
        }
        Expr::Aggregate(agg) => {
            let op = agg.op.to_string();
            if EXPERIMENTAL_AGGREGATORS.contains(&op.as_str()) {
                return Err(format!(
                    "{op}() is experimental and must be enabled with --enable-feature=promql-experimental-functions"
                ));
            }
            if let Some(param) = &agg.param {
                gate(param)?;
            }
            gate(&agg.expr)
        }
        Expr::Unary(u) => gate(&u.expr),
        Expr::Binary(b) => {
            gate(&b.lhs)?;
            gate(&b.rhs)
        }
        Expr::Paren(p) => gate(&p.expr),
        Expr::Subquery(s) => gate(&s.expr),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => Ok(()),
        Expr::VectorSelector(vs) => check_selector(vs),
        Expr::MatrixSelector(ms) => check_selector(&ms.vs),
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn accepts_stable_promql() {
        for ok in [
            "up",
            "sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m])) > 0.1",
            "histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))",
            "topk(3, foo)",
            "foo{}",
            "1_000 + foo",
            "foo @ 1609746000",
            "avg_over_time(foo[1h:5m])",
            "{\"utf8.metric\"}",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn refuses_what_prometheus_refuses() {
        for bad in [
            "",
            "sum(",
            "rate(foo)",
            "{}",
            "foo{a=~\"a++\"}",
            "foo @ 1e20",
            "sort_by_label(up, \"x\")",
            "limitk(1, up)",
            "integral(up[5m])",
            "foo{a=~\"(\"}",
        ] {
            assert!(check(bad).is_err(), "{bad} must be refused");
        }
    }
}
