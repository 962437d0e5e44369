//! Variable tables: globals, `this->`, `self->`, associative arrays and
//! aggregations. A variable gets its type from its declaration or, failing
//! that, from its first assignment; later stores must be compatible.

use std::collections::HashMap;

use super::types::assignable;
use crate::typed::{AggDecl, AggFunc, AggId, AssocDecl, AssocId, Program, VarDecl, VarId};
use crate::types::Type;

#[derive(Default)]
pub(crate) struct Table {
    decls: Vec<VarDecl>,
    by_name: HashMap<String, VarId>,
}

impl Table {
    pub fn get(&self, name: &str) -> Option<(VarId, &Type)> {
        self.by_name.get(name).map(|&id| (id, &self.decls[id].ty))
    }

    /// Declares `name` of type `ty`; an identical redeclaration is fine.
    fn declare(&mut self, what: &str, name: &str, ty: Type) -> Result<VarId, String> {
        if let Some((id, old)) = self.get(name) {
            if *old == ty {
                return Ok(id);
            }
            return Err(format!(
                "{what}{name} redeclared as {} (it was {})",
                ty.name(),
                old.name()
            ));
        }
        Ok(self.add(name, ty))
    }

    pub fn add(&mut self, name: &str, ty: Type) -> VarId {
        let id = self.decls.len();
        self.decls.push(VarDecl {
            name: name.to_string(),
            ty,
        });
        self.by_name.insert(name.to_string(), id);
        id
    }
}

#[derive(Default)]
pub(crate) struct Vars {
    pub globals: Table,
    pub this: Table,
    pub selfs: Table,
    assocs: Vec<AssocDecl>,
    assoc_by: HashMap<String, AssocId>,
    aggs: Vec<AggDecl>,
    agg_by: HashMap<String, AggId>,
}

impl Vars {
    /// The global variables' and associative arrays' names (suggestions).
    pub fn names(&self) -> impl Iterator<Item = String> + '_ {
        self.globals
            .by_name
            .keys()
            .chain(self.assoc_by.keys())
            .cloned()
    }

    pub fn declare_global(&mut self, name: &str, ty: Type) -> Result<(), String> {
        if self.assoc_by.contains_key(name) {
            return Err(format!(
                "{name} is already declared as an associative array"
            ));
        }
        self.globals.declare("", name, ty).map(|_| ())
    }

    pub fn declare_this(&mut self, name: &str, ty: Type) -> Result<(), String> {
        self.this.declare("this->", name, ty).map(|_| ())
    }

    pub fn declare_self(&mut self, name: &str, ty: Type) -> Result<(), String> {
        self.selfs.declare("self->", name, ty).map(|_| ())
    }

    pub fn declare_assoc(
        &mut self,
        name: &str,
        keys: Vec<Type>,
        value: Type,
    ) -> Result<(), String> {
        if self.globals.get(name).is_some() {
            return Err(format!("{name} is already declared as a scalar variable"));
        }
        match self.assoc(name) {
            Some((_, d)) if d.keys == keys && d.value == value => Ok(()),
            Some(_) => Err(format!(
                "associative array {name} redeclared with a different signature"
            )),
            None => {
                self.add_assoc(name, keys, value);
                Ok(())
            }
        }
    }

    /// A global name in use (scalar or associative array).
    pub fn exists(&self, name: &str) -> bool {
        self.globals.get(name).is_some() || self.assoc_by.contains_key(name)
    }

    pub fn assoc(&self, name: &str) -> Option<(AssocId, &AssocDecl)> {
        self.assoc_by.get(name).map(|&id| (id, &self.assocs[id]))
    }

    pub fn add_assoc(&mut self, name: &str, keys: Vec<Type>, value: Type) -> AssocId {
        let id = self.assocs.len();
        self.assocs.push(AssocDecl {
            name: name.to_string(),
            keys,
            value,
        });
        self.assoc_by.insert(name.to_string(), id);
        id
    }

    pub fn agg_decl(&self, id: AggId) -> &AggDecl {
        &self.aggs[id]
    }

    pub fn agg(&self, name: &str) -> Option<(AggId, &AggDecl)> {
        self.agg_by.get(name).map(|&id| (id, &self.aggs[id]))
    }

    /// Records a use `@name[keys] = func(…)`; every use of one aggregation
    /// must agree on its key types and its function.
    pub fn use_agg(&mut self, name: &str, keys: Vec<Type>, func: AggFunc) -> Result<AggId, String> {
        let shown = agg_shown(name);
        if let Some((id, d)) = self.agg(name) {
            if std::mem::discriminant(&d.func) != std::mem::discriminant(&func) || d.func != func {
                return Err(format!(
                    "{shown}: aggregating function {} differs from the earlier use {}",
                    agg_func_name(func),
                    agg_func_name(d.func)
                ));
            }
            if d.keys.len() != keys.len() {
                return Err(format!(
                    "{shown} has {} key{} here but {} at its first use",
                    keys.len(),
                    if keys.len() == 1 { "" } else { "s" },
                    d.keys.len()
                ));
            }
            for (i, (a, b)) in d.keys.iter().zip(&keys).enumerate() {
                if !assignable(a, b) {
                    return Err(format!(
                        "{shown} key #{} is {} here but {} at its first use",
                        i + 1,
                        b.name(),
                        a.name()
                    ));
                }
            }
            return Ok(id);
        }
        let id = self.aggs.len();
        self.aggs.push(AggDecl {
            name: name.to_string(),
            keys,
            func,
        });
        self.agg_by.insert(name.to_string(), id);
        Ok(id)
    }

    pub fn export(&mut self, p: &mut Program) {
        p.globals = std::mem::take(&mut self.globals.decls);
        p.this_vars = std::mem::take(&mut self.this.decls);
        p.self_vars = std::mem::take(&mut self.selfs.decls);
        p.assocs = std::mem::take(&mut self.assocs);
        p.aggs = std::mem::take(&mut self.aggs);
    }
}

pub(crate) fn agg_func_name(f: AggFunc) -> &'static str {
    match f {
        AggFunc::Count => "count( )",
        AggFunc::Sum => "sum( )",
        AggFunc::Avg => "avg( )",
        AggFunc::Min => "min( )",
        AggFunc::Max => "max( )",
        AggFunc::Stddev => "stddev( )",
        AggFunc::Quantize => "quantize( )",
        AggFunc::Lquantize { .. } => "lquantize( )",
        AggFunc::Llquantize { .. } => "llquantize( )",
    }
}

/// An aggregation as the user wrote it: `@` for the anonymous one (kept as
/// `_`), `@name` otherwise.
pub fn agg_shown(name: &str) -> String {
    if name == "_" {
        "@".to_string()
    } else {
        format!("@{name}")
    }
}
