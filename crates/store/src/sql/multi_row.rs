//! Bulk `INSERT`s of many rows in one statement, written from one row
//! template with `$k` parameters (`$1` … `$params`, each used any number of
//! times), in each dialect's fastest form that sqlx's `Any` driver can bind.
//!
//! SQLite gets `VALUES (…), (…)` with anonymous `?` parameters, one per use,
//! bound in the order they appear: sqlx binds a named or numbered SQLite
//! parameter by asking SQLite for its name, which SQLite finds by walking a
//! list, so binding n numbered parameters costs n² (250 was the most worth
//! it); anonymous ones bind in linear time, thousands to a statement.
//!
//! PostgreSQL gets numbered parameters, one per value, up to its limit of
//! 65,535 a statement. (Tried: the rows as one JSON parameter read by
//! `json_to_recordset`, to spare the executor a `VALUES` list's expressions;
//! it imported 12 % slower. `COPY` and array parameters would be faster, but
//! sqlx's `Any` driver has neither.)

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AssertSqlSafe};

use super::Dialect;

/// One value of a row.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    Int(i64),
    Real(f64),
    Text(&'a str),
    OptInt(Option<i64>),
    OptText(Option<&'a str>),
}

/// A statement inserting `rows` rows of a template.
pub(crate) struct MultiRow {
    dialect: Dialect,
    /// The `VALUES` list.
    source: String,
    /// SQLite: the template parameter (0-based) each placeholder binds.
    order: Vec<usize>,
    params: usize,
}

impl MultiRow {
    /// `template` is one row's `( … )` with `$1` … `$params`.
    pub(crate) fn new(dialect: Dialect, template: &str, params: usize, rows: usize) -> Self {
        let (row, order) = anonymous(template, params);
        let source = match dialect {
            Dialect::Sqlite => format!("VALUES {}", vec![row.as_str(); rows].join(", ")),
            Dialect::Postgres => {
                let rows = (0..rows).map(|i| renumbered(template, params, i * params));
                format!("VALUES {}", rows.collect::<Vec<_>>().join(", "))
            }
        };
        Self { dialect, source, order, params }
    }

    /// `INSERT INTO table (columns) …` this statement's rows.
    pub(crate) fn sql(&self, insert_into: &str, returning: &str) -> String {
        format!("{insert_into} {}{returning}", self.source)
    }

    /// How many rows one statement takes, for a template with `uses`
    /// placeholders per row (in SQLite's form: a parameter used twice counts
    /// twice).
    pub(crate) fn rows_per_statement(dialect: Dialect, uses: usize) -> usize {
        match dialect {
            // SQLite allows 32,766 parameters per statement.
            Dialect::Sqlite => (30_000 / uses).clamp(1, 1_000),
            // PostgreSQL allows 65,535; each statement is a round trip.
            Dialect::Postgres => (60_000 / uses).clamp(1, 500),
        }
    }

    /// Placeholders one row of `template` has in SQLite's form.
    pub(crate) fn uses(template: &str, params: usize) -> usize {
        anonymous(template, params).1.len()
    }

    /// Binds each row's values (`params` of them, in template order).
    pub(crate) fn bind<'q>(&self, sql: String, rows: impl IntoIterator<Item = Vec<Value<'q>>>) -> BoundQuery<'q> {
        let q = sqlx::query(AssertSqlSafe(sql));
        match self.dialect {
            Dialect::Sqlite => rows.into_iter().fold(q, |q, row| {
                debug_assert_eq!(row.len(), self.params);
                self.order.iter().fold(q, |q, &k| bind(q, row[k]))
            }),
            Dialect::Postgres => rows.into_iter().flatten().fold(q, bind),
        }
    }
}

fn bind<'q>(q: BoundQuery<'q>, v: Value<'q>) -> BoundQuery<'q> {
    match v {
        Value::Int(v) => q.bind(v),
        Value::Real(v) => q.bind(v),
        Value::Text(v) => q.bind(v),
        Value::OptInt(v) => q.bind(v),
        Value::OptText(v) => q.bind(v),
    }
}

pub(crate) type BoundQuery<'q> = Query<'q, Any, AnyArguments>;

/// The template with every `$k` as `?`, and the k (0-based) of each, in order.
fn anonymous(template: &str, params: usize) -> (String, Vec<usize>) {
    let mut sql = String::with_capacity(template.len());
    let mut order = Vec::new();
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        sql.push_str(&rest[..at]);
        let digits = rest[at + 1..].bytes().take_while(u8::is_ascii_digit).count();
        let k: usize = rest[at + 1..at + 1 + digits].parse().expect("a template parameter is $ and a number");
        assert!((1..=params).contains(&k), "template parameter ${k} out of 1..={params}");
        sql.push('?');
        order.push(k - 1);
        rest = &rest[at + 1 + digits..];
    }
    sql.push_str(rest);
    (sql, order)
}

/// The template with `$k` renumbered `$(base + k)`.
fn renumbered(template: &str, params: usize, base: usize) -> String {
    // Replace from the highest number down so `$1` does not eat `$10`.
    (1..=params)
        .rev()
        .fold(template.to_string(), |t, k| t.replace(&format!("${k}"), &format!("#{}", base + k)))
        .replace('#', "$")
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "($1, $10, CASE WHEN $2 = 1 THEN $1 END)";

    #[test]
    fn postgres_numbers_each_rows_parameters_after_the_previous_rows() {
        let m = MultiRow::new(Dialect::Postgres, T, 10, 2);
        let want = "VALUES ($1, $10, CASE WHEN $2 = 1 THEN $1 END), ($11, $20, CASE WHEN $12 = 1 THEN $11 END)";
        assert_eq!(m.source, want);
    }

    #[test]
    fn sqlite_binds_one_anonymous_parameter_per_use_in_order() {
        let m = MultiRow::new(Dialect::Sqlite, T, 10, 2);
        assert_eq!(m.source, "VALUES (?, ?, CASE WHEN ? = 1 THEN ? END), (?, ?, CASE WHEN ? = 1 THEN ? END)");
        assert_eq!(m.order, vec![0, 9, 1, 0]);
        assert_eq!(MultiRow::uses(T, 10), 4);
    }
}
