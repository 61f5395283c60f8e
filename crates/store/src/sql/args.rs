//! A tiny builder for `WHERE` clauses with `$n` parameters. Hand-written because
//! sqlx's `QueryBuilder` emits `?` placeholders for the `Any` driver, which
//! PostgreSQL does not accept.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AssertSqlSafe};

pub(crate) enum Arg {
    Int(i64),
    Text(String),
}

#[derive(Default)]
pub(crate) struct Where {
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Where {
    /// Adds `column op $n` with `value` bound to the new parameter.
    pub(crate) fn push(&mut self, column: &str, op: &str, value: Arg) -> &mut Self {
        self.args.push(value);
        self.clauses.push(format!("{column} {op} ${}", self.args.len()));
        self
    }

    pub(crate) fn push_opt_text(&mut self, column: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.push(column, "=", Arg::Text(v.to_string()));
        }
        self
    }

    pub(crate) fn push_opt_int(&mut self, column: &str, value: Option<i64>) -> &mut Self {
        if let Some(v) = value {
            self.push(column, "=", Arg::Int(v));
        }
        self
    }

    /// Adds `clause`, in which `$?` stands for each use of `value` in turn.
    pub(crate) fn push_repeated(&mut self, clause: &str, value: &str) -> &mut Self {
        let mut out = String::new();
        let mut parts = clause.split("$?").peekable();
        while let Some(part) = parts.next() {
            out.push_str(part);
            if parts.peek().is_some() {
                self.args.push(Arg::Text(value.to_string()));
                out.push_str(&format!("${}", self.args.len()));
            }
        }
        self.clauses.push(out);
        self
    }

    /// Adds a condition with no parameter.
    pub(crate) fn raw(&mut self, clause: &str) -> &mut Self {
        self.clauses.push(clause.to_string());
        self
    }

    /// `SELECT {cols} FROM {table} WHERE … {tail}` with the arguments bound.
    pub(crate) fn select(self, cols: &str, table: &str, tail: &str) -> Query<'static, Any, AnyArguments> {
        let cond =
            if self.clauses.is_empty() { String::new() } else { format!(" WHERE {}", self.clauses.join(" AND ")) };
        let sql = format!("SELECT {cols} FROM {table}{cond} {tail}");
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for a in self.args {
            q = match a {
                Arg::Int(i) => q.bind(i),
                Arg::Text(s) => q.bind(s),
            };
        }
        q
    }
}
