//! printf-like formats checked against their arguments at compile time, as
//! dtrace does (dt_printf_validate): the format must be a string constant,
//! each conversion needs an argument of a type it accepts, and printf-style
//! actions take no extra arguments. Messages follow dtrace's wording.

use super::Checker;
use crate::diag::Diagnostic;
use crate::format::{self, Count, Format};
use crate::span::Span;
use crate::typed::{Expr, ExprKind};
use crate::types::{IntType, Type};

/// What the values of a format come from.
pub(crate) enum Values<'e> {
    /// printf/system: expressions after the format.
    Args(&'e [Expr]),
    /// printa: the aggregation's keys (types only), then its value for `%@`.
    Agg { keys: &'e [Type], value: Type },
}

impl Checker<'_> {
    /// Checks that `fmt` is a string constant and parses it.
    pub(crate) fn format_of(&mut self, func: &str, fmt: &Expr) -> Option<Format> {
        let ExprKind::Str(bytes) = &fmt.kind else {
            self.error(
                Diagnostic::new(
                    format!(
                        "{func}( ) argument #1 is incompatible with prototype:\n\tprototype: string constant\n\t argument: {}",
                        fmt.ty.name()
                    ),
                    fmt.span,
                )
                .with_label("non-constant format")
                .with_help("the format must be a string literal"),
            );
            return None;
        };
        if bytes.is_empty() {
            self.err(format!("{func}( ) format string is empty"), fmt.span);
            return None;
        }
        match format::parse(bytes) {
            Ok(f) => Some(f),
            Err(e) => {
                self.error(
                    Diagnostic::new(format!("{func}( ) {}", e.message), fmt.span)
                        .with_label("in this format"),
                );
                None
            }
        }
    }

    /// Validates `values` against the conversions of `f`.
    pub(crate) fn validate_format(
        &mut self,
        func: &str,
        f: &Format,
        values: Values,
        span: Span,
        fmt_span: Span,
    ) -> bool {
        let (exprs, keys, agg_value, exact) = match values {
            Values::Args(a) => (Some(a), None, None, true),
            Values::Agg { keys, value } => (None, Some(keys), Some(value), false),
        };
        let n_values = exprs.map_or_else(|| keys.map_or(0, |k| k.len()), |a| a.len());
        let ty_at = |j: usize| -> Option<(Type, Span)> {
            match (exprs, keys) {
                (Some(a), _) => a.get(j).map(|e| (e.ty.clone(), e.span)),
                (None, Some(k)) => k.get(j).map(|t| (t.clone(), span)),
                _ => None,
            }
        };
        // Argument numbers in messages count the format as #1.
        let foff = 1;
        let mut j = 0usize;
        for (i, conv) in f.convs().enumerate() {
            let mut dyns = Vec::new();
            if conv.width == Count::Star {
                dyns.push("*");
            }
            if conv.precision == Some(Count::Star) {
                dyns.push(".*");
            }
            for d in dyns {
                let Some((ty, at)) = ty_at(j) else {
                    self.err(
                        format!(
                            "{func}( ) prototype mismatch: conversion #{} (%{}) is missing a corresponding \"{d}\" argument",
                            i + 1,
                            conv.name()
                        ),
                        span,
                    );
                    return false;
                };
                if !ty.is_int() {
                    self.err(
                        format!(
                            "{func}( ) argument #{} is incompatible with conversion #{} prototype:\n\tconversion: % {d} {}\n\t prototype: int\n\t  argument: {}",
                            j + foff + 1,
                            i + 1,
                            conv.name(),
                            ty.name()
                        ),
                        at,
                    );
                    return false;
                }
                j += 1;
            }
            let (vname, ty, at) = if conv.aggregation {
                match &agg_value {
                    Some(v) => ("aggregating action".to_string(), v.clone(), span),
                    None => {
                        self.err(
                            format!("%@ conversion requires an aggregation and is not for use with {func}( )"),
                            fmt_span,
                        );
                        return false;
                    }
                }
            } else {
                match ty_at(j) {
                    Some((ty, at)) => {
                        j += 1;
                        (format!("argument #{}", j + foff), ty, at)
                    }
                    None => {
                        self.error(
                            Diagnostic::new(
                                format!(
                                    "{func}( ) prototype mismatch: conversion #{} (%{}) is missing a corresponding value argument",
                                    i + 1,
                                    conv.name()
                                ),
                                span,
                            )
                            .with_label("too few arguments"),
                        );
                        return false;
                    }
                }
            };
            if !conv.accepts(&ty) {
                self.error(
                    Diagnostic::new(
                        format!(
                            "{func}( ) {vname} is incompatible with conversion #{} prototype:\n\tconversion: %{}\n\t prototype: {}\n\t  argument: {}",
                            i + 1,
                            conv.name(),
                            conv.prototype(),
                            ty.name()
                        ),
                        at,
                    )
                    .with_label(format!("this is of type {}", ty.name())),
                );
                return false;
            }
        }
        if exact && j < n_values {
            let extra = exprs.and_then(|a| a.get(j)).map_or(span, |e| e.span);
            self.error(
                Diagnostic::new(
                    format!("{func}( ) prototype mismatch: only {j} arguments required by this format string"),
                    extra,
                )
                .with_label("extra argument"),
            );
            return false;
        }
        true
    }
}

/// The value type `%@` sees for an aggregation function (dtrace: uint64_t
/// for count, int64_t otherwise).
pub(crate) fn agg_value_type(f: crate::typed::AggFunc) -> Type {
    match f {
        crate::typed::AggFunc::Count => Type::Int(IntType::UINT64),
        _ => Type::Int(IntType::INT64),
    }
}
