//! Structural equality and type descriptors.
//!
//! `a == b` on a scalar is one comparison (Int, Bool, `()`, `Conn` and
//! service handles by word, Float by IEEE `==`, String and Bytes by their
//! bytes in the runtime). On a compound type (a list, tuple, struct or
//! constructor of a sum type) it calls a function generated once per type,
//! `$eq.<type>` (`$eq.List<(Int, String)>`): lists in a loop, records field
//! by field, sum types on their tag and then their fields; each part with
//! the same rules, so nested and recursive types compare all the way down.
//! Maps compare in the runtime (`snow_map_eq`: same keys, equal values),
//! which gets the key and value types as descriptors.
//!
//! A generic runtime function (`List.contains`, `Map.put`, ...) receives a
//! type descriptor per type variable (docs/ABI.md): a small number for a
//! scalar, and for a compound type a pointer to a static descriptor
//! `{ kind, n, parts[n] }` (`Program::descs`) from which the runtime
//! compares and hashes values of that type.

use snowc_types::lang::{self, rt, td};
use snowc_types::tast::Ty;
use snowc_types::ty::{show, subst_params};

use super::FnLower;
use crate::mir::{BlockId, Function, Operand, PrimOp, Rvalue, Stmt, Terminator, TypeDesc, Var};

/// How values of a type are compared.
enum Shape {
    /// One word comparison.
    Word,
    Float,
    String,
    Bytes,
    Map(Ty, Ty),
    List(Ty),
    /// A tuple or struct: its field types.
    Record(Vec<Ty>),
    /// A sum type: its variants' field types.
    Sum(Vec<Vec<Ty>>),
}

impl FnLower<'_, '_> {
    fn shape(&self, ty: &Ty) -> Shape {
        match ty {
            Ty::Float => Shape::Float,
            Ty::String => Shape::String,
            Ty::Con(n, args) if n == lang::LIST && args.len() == 1 => Shape::List(args[0].clone()),
            Ty::Con(n, args) if n == lang::MAP && args.len() == 2 => {
                Shape::Map(args[0].clone(), args[1].clone())
            }
            Ty::Con(n, args) if n == lang::TUPLE => Shape::Record(args.clone()),
            Ty::Con(n, args) if n == lang::BYTES && args.is_empty() => Shape::Bytes,
            Ty::Con(n, args) => match self.cx.types.get(n) {
                Some(info) if !info.opaque && !info.service => match &info.fields {
                    Some(fields) => {
                        Shape::Record(fields.iter().map(|(_, t)| subst_params(t, args)).collect())
                    }
                    None => Shape::Sum(
                        info.variants
                            .iter()
                            .map(|v| v.fields.iter().map(|f| subst_params(f, args)).collect())
                            .collect(),
                    ),
                },
                _ => Shape::Word,
            },
            _ => Shape::Word,
        }
    }

    /// `a == b` for values of type `ty`: a Bool word.
    pub(crate) fn equal(&mut self, ty: &Ty, a: Operand, b: Operand) -> Operand {
        match self.shape(ty) {
            Shape::Word => self.temp(Rvalue::Prim(PrimOp::IntEq, vec![a, b])),
            Shape::Float => self.temp(Rvalue::Prim(PrimOp::FloatEq, vec![a, b])),
            Shape::String => self.call_extern(rt::STRING_EQ, vec![a, b]),
            Shape::Bytes => self.call_extern(rt::BYTES_EQ, vec![a, b]),
            Shape::Map(k, v) => {
                let (k, v) = (self.type_desc(&k), self.type_desc(&v));
                self.call_extern(rt::MAP_EQ, vec![k, v, a, b])
            }
            Shape::List(_) | Shape::Record(_) | Shape::Sum(_) => {
                let f = self.eq_fn(ty);
                self.check_here();
                self.temp(Rvalue::Call {
                    func: f,
                    args: vec![a, b],
                })
            }
        }
    }

    /// A safepoint at the current position (before a call of a generated function).
    fn check_here(&mut self) {
        let file = self.pos.file.clone();
        let Loc { line, col } = self.loc;
        self.emit(Stmt::Check { file, line, col });
    }

    /// The name of the equality function of compound type `ty`, generated
    /// on first use.
    fn eq_fn(&mut self, ty: &Ty) -> String {
        let name = format!("$eq.{}", show(ty));
        if self.cx.wrappers.contains_key(&name) {
            return name;
        }
        // A placeholder first: a recursive type's function calls itself.
        let placeholder = FnLower::new(&mut *self.cx, name.clone(), false).finish();
        self.cx.wrappers.insert(name.clone(), placeholder);
        let shape = self.shape(ty);
        // No position of its own: shared by every comparison of the type.
        let mut f = FnLower::new(&mut *self.cx, name.clone(), false);
        let a = Operand::Var(f.add_param(None, "a".into()));
        let b = Operand::Var(f.add_param(None, "b".into()));
        let no = f.new_block();
        let header = f.new_block();
        f.terminate(Terminator::Jump(header));
        f.switch_to(header);
        match shape {
            Shape::List(elem) => f.eq_list_body(&elem, a, b, header, no),
            Shape::Record(fields) => {
                f.eq_fields(&fields, &a, &b, Rvalue::RecordField, no);
                f.terminate(Terminator::Return(Operand::Const(1)));
            }
            Shape::Sum(variants) => f.eq_sum_body(&variants, a, b, no),
            _ => unreachable!("only compound types get an equality function"),
        }
        f.switch_to(no);
        f.terminate(Terminator::Return(Operand::Const(0)));
        let func: Function = f.finish();
        self.cx.wrappers.insert(name.clone(), func);
        name
    }

    /// Compare fields `0..n` (read with `get`) in order; any that differ
    /// goes to `no`. Continues in the current block when all are equal.
    fn eq_fields(
        &mut self,
        fields: &[Ty],
        a: &Operand,
        b: &Operand,
        get: impl Fn(Operand, u32) -> Rvalue,
        no: BlockId,
    ) {
        for (i, t) in fields.iter().enumerate() {
            let fa = self.temp(get(a.clone(), i as u32));
            let fb = self.temp(get(b.clone(), i as u32));
            let e = self.equal(t, fa, fb);
            let next = self.new_block();
            self.terminate(Terminator::Branch {
                cond: e,
                then: next,
                else_: no,
            });
            self.switch_to(next);
        }
    }

    /// Two lists, cell by cell (a loop: constant stack for any length).
    fn eq_list_body(&mut self, elem: &Ty, a: Operand, b: Operand, header: BlockId, no: BlockId) {
        let (Operand::Var(va), Operand::Var(vb)) = (&a, &b) else {
            unreachable!("parameters are variables")
        };
        let (va, vb): (Var, Var) = (*va, *vb);
        let a_empty = self.temp(Rvalue::Prim(
            PrimOp::IntEq,
            vec![a.clone(), Operand::Const(0)],
        ));
        let b_empty = self.temp(Rvalue::Prim(
            PrimOp::IntEq,
            vec![b.clone(), Operand::Const(0)],
        ));
        let (end, cells) = self.branch_new(a_empty);
        // `a` ended: equal when `b` did too.
        self.switch_to(end);
        self.terminate(Terminator::Return(b_empty.clone()));
        self.switch_to(cells);
        let both = self.new_block();
        self.terminate(Terminator::Branch {
            cond: b_empty,
            then: no,
            else_: both,
        });
        self.switch_to(both);
        let ha = self.temp(Rvalue::ListHead(a.clone()));
        let hb = self.temp(Rvalue::ListHead(b.clone()));
        let e = self.equal(elem, ha, hb);
        let next = self.new_block();
        self.terminate(Terminator::Branch {
            cond: e,
            then: next,
            else_: no,
        });
        self.switch_to(next);
        self.assign(va, Rvalue::ListTail(a));
        self.assign(vb, Rvalue::ListTail(b));
        self.check_here();
        self.terminate(Terminator::Jump(header));
    }

    /// Two values of a sum type: the same constructor, then its fields.
    fn eq_sum_body(&mut self, variants: &[Vec<Ty>], a: Operand, b: Operand, no: BlockId) {
        let ta = self.temp(Rvalue::GetTag(a.clone()));
        let tb = self.temp(Rvalue::GetTag(b.clone()));
        let same = self.temp(Rvalue::Prim(PrimOp::IntEq, vec![ta.clone(), tb]));
        let yes = self.new_block();
        let fields = self.new_block();
        self.terminate(Terminator::Branch {
            cond: same,
            then: fields,
            else_: no,
        });
        self.switch_to(fields);
        let mut cases = Vec::new();
        for (tag, fs) in variants.iter().enumerate() {
            if fs.is_empty() {
                continue;
            }
            let b0 = self.new_block();
            cases.push((tag as i64, b0));
            self.switch_to(b0);
            self.eq_fields(fs, &a, &b, Rvalue::GetField, no);
            self.terminate(Terminator::Jump(yes));
            self.switch_to(fields);
        }
        if cases.is_empty() {
            self.terminate(Terminator::Jump(yes));
        } else {
            self.terminate(Terminator::Switch {
                value: ta,
                cases,
                default: yes,
            });
        }
        self.switch_to(yes);
        self.terminate(Terminator::Return(Operand::Const(1)));
    }

    /// The type descriptor word of `ty` for a generic runtime function.
    pub(crate) fn type_desc(&mut self, ty: &Ty) -> Operand {
        match self.shape(ty) {
            Shape::List(_) | Shape::Map(..) | Shape::Record(_) | Shape::Sum(_) => {
                Operand::TypeDesc(self.desc(ty))
            }
            _ => Operand::Const(lang::type_descriptor(ty)),
        }
    }

    /// The name of the static descriptor of compound type `ty`, made (with
    /// the descriptors it refers to) on first use.
    fn desc(&mut self, ty: &Ty) -> String {
        let name = show(ty);
        if self.cx.descs.contains_key(&name) {
            return name;
        }
        // Registered before its parts: a recursive type refers to itself.
        self.cx.descs.insert(
            name.clone(),
            TypeDesc {
                name: name.clone(),
                kind: 0,
                parts: Vec::new(),
            },
        );
        let (kind, parts) = match self.shape(ty) {
            Shape::List(e) => (td::LIST, vec![self.type_desc(&e)]),
            Shape::Map(k, v) => (td::MAP, vec![self.type_desc(&k), self.type_desc(&v)]),
            Shape::Record(fs) => (td::RECORD, fs.iter().map(|f| self.type_desc(f)).collect()),
            Shape::Sum(vs) => {
                let mut parts = Vec::new();
                for (i, fs) in vs.iter().enumerate() {
                    if fs.is_empty() {
                        parts.push(Operand::Const(0));
                        continue;
                    }
                    let vname = format!("{name}#{i}");
                    let vparts = fs.iter().map(|f| self.type_desc(f)).collect();
                    self.cx.descs.insert(
                        vname.clone(),
                        TypeDesc {
                            name: vname.clone(),
                            kind: td::RECORD,
                            parts: vparts,
                        },
                    );
                    parts.push(Operand::TypeDesc(vname));
                }
                (td::SUM, parts)
            }
            _ => unreachable!("only compound types get a descriptor"),
        };
        self.cx.descs.insert(
            name.clone(),
            TypeDesc {
                name: name.clone(),
                kind,
                parts,
            },
        );
        name
    }
}

use crate::mir::Loc;
