//! Expressions: literals, operators, calls (and self tail calls), blocks, `if`, `for`.

use snowc_syntax::ast::{BinOp, UnOp};
use snowc_syntax::Span;
use snowc_types::lang::rt;
use snowc_types::tast::{Callee, TExpr, TExprKind, Ty};

use super::{Dest, FnLower};
use crate::mir::{Operand, PrimOp, Rvalue, Stmt, Terminator};

impl FnLower<'_, '_> {
    /// Lower `e` and deliver its value to `dest`. Leaves the current block terminated.
    pub(crate) fn lower_into(&mut self, e: &TExpr, dest: Dest) {
        match dest {
            Dest::Join(var, join) => {
                let v = self.lower_expr(e);
                let outer = self.at(e.span);
                self.assign(var, Rvalue::Use(v));
                self.terminate(Terminator::Jump(join));
                self.restore(outer);
            }
            Dest::Tail => self.lower_tail(e),
        }
    }

    /// Lower `e` in tail position: return its value, jump back to the loop
    /// header for a self-recursive call, or tail-call another function or a
    /// closure.
    fn lower_tail(&mut self, e: &TExpr) {
        let outer = self.at(e.span);
        self.lower_tail_here(e);
        self.restore(outer);
    }

    fn lower_tail_here(&mut self, e: &TExpr) {
        match &e.kind {
            TExprKind::Block(items) if !items.is_empty() => {
                let (last, init) = items.split_last().expect("non-empty");
                for item in init {
                    self.lower_expr(item);
                }
                self.lower_tail(last);
            }
            TExprKind::If { cond, then, else_ } => {
                let c = self.lower_expr(cond);
                let (tb, eb) = self.branch_new(c);
                self.switch_to(tb);
                self.lower_tail(then);
                self.switch_to(eb);
                match else_ {
                    Some(else_) => self.lower_tail(else_),
                    None => self.terminate(Terminator::Return(Operand::Const(0))),
                }
            }
            TExprKind::Case { scrutinee, arms } => {
                self.lower_case(scrutinee, arms, Dest::Tail, e.span)
            }
            TExprKind::Call {
                callee: callee @ (Callee::Fn(_) | Callee::Value(_)),
                args,
            } if !self.is_self_loop(callee, args.len()) => {
                let rv = self.lower_call_rvalue(callee, args, e.span);
                self.terminate(Terminator::TailCall(rv));
            }
            TExprKind::Call { callee, args } if self.is_self_loop(callee, args.len()) => {
                let header = self.loop_header.expect("checked");
                let vals: Vec<Operand> = args.iter().map(|a| self.lower_expr(a)).collect();
                // Evaluate all arguments before reassigning any parameter.
                // A parameter passed in its own position needs no move; one passed in
                // another position is saved first, as the assignments overwrite it.
                let vals: Vec<Operand> = vals
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Operand::Var(var) if var.0 < self.params && var.0 != i as u32 => {
                            self.temp(Rvalue::Use(v))
                        }
                        other => other,
                    })
                    .collect();
                for (i, v) in vals.into_iter().enumerate() {
                    let p = crate::mir::Var(i as u32);
                    if v != Operand::Var(p) {
                        self.assign(p, Rvalue::Use(v));
                    }
                }
                let check = self.cx.check(e.span);
                self.emit(check);
                self.terminate(Terminator::Jump(header));
            }
            _ => {
                let v = self.lower_expr(e);
                self.terminate(Terminator::Return(v));
            }
        }
    }

    /// Lower `e` in the current block (possibly adding blocks) and return its
    /// value. What it emits carries `e`'s source position.
    pub(crate) fn lower_expr(&mut self, e: &TExpr) -> Operand {
        let outer = self.at(e.span);
        let v = self.lower_expr_here(e);
        self.restore(outer);
        v
    }

    fn lower_expr_here(&mut self, e: &TExpr) -> Operand {
        match &e.kind {
            TExprKind::Int(n) => Operand::Const(*n),
            TExprKind::Float(x) => Operand::Float(*x),
            TExprKind::Str(s) => Operand::Str(s.clone()),
            TExprKind::Bool(b) => Operand::Const(*b as i64),
            TExprKind::Unit => Operand::Const(0),
            TExprKind::Interp(parts) => self.lower_interp(parts),
            TExprKind::List(items) => {
                let vals: Vec<Operand> = items.iter().map(|i| self.lower_expr(i)).collect();
                let mut acc = Operand::Const(0);
                for v in vals.into_iter().rev() {
                    acc = self.call_extern(rt::LIST_CONS, vec![v, acc]);
                }
                acc
            }
            TExprKind::Local(l) => self.local(*l),
            TExprKind::FnRef(name) => Operand::FnRef(name.clone()),
            TExprKind::ExternRef { name, type_args } => {
                Operand::FnRef(self.extern_wrapper(name, type_args, &e.ty))
            }
            TExprKind::Call { callee, args } => self.lower_call(callee, args, &e.ty, e.span),
            TExprKind::Tuple(items) | TExprKind::Struct { fields: items, .. } => {
                let vals = items.iter().map(|i| self.lower_expr(i)).collect();
                self.temp(Rvalue::MakeRecord(vals))
            }
            TExprKind::Field { expr, index, .. } => {
                let v = self.lower_expr(expr);
                self.temp(Rvalue::RecordField(v, *index))
            }
            TExprKind::Update {
                expr,
                width,
                fields,
            } => self.lower_update(expr, *width, fields),
            TExprKind::Cons { items, tail } => {
                let vals: Vec<Operand> = items.iter().map(|i| self.lower_expr(i)).collect();
                let mut acc = self.lower_expr(tail);
                for v in vals.into_iter().rev() {
                    acc = self.call_extern(rt::LIST_CONS, vec![v, acc]);
                }
                acc
            }
            TExprKind::LetPat { pattern, value } => {
                let v = self.lower_expr(value);
                self.bind_irrefutable(pattern, v);
                Operand::Const(0)
            }
            TExprKind::Ctor { tag, args, .. } => {
                if args.is_empty() {
                    Operand::NullaryCtor(*tag)
                } else {
                    let fields = args.iter().map(|a| self.lower_expr(a)).collect();
                    self.temp(Rvalue::MakeCtor { tag: *tag, fields })
                }
            }
            TExprKind::Binary { op, lhs, rhs } => self.lower_binary(*op, lhs, rhs, e.span),
            TExprKind::Unary { op, expr } => {
                let v = self.lower_expr(expr);
                let prim = match (op, &expr.ty) {
                    (UnOp::Neg, Ty::Float) => PrimOp::FloatNeg,
                    (UnOp::Neg, _) => PrimOp::IntNeg,
                    (UnOp::Not, _) => PrimOp::Not,
                };
                self.temp(Rvalue::Prim(prim, vec![v]))
            }
            TExprKind::Let { local, value } => {
                let v = self.lower_expr(value);
                self.bind_local_to(*local, v);
                Operand::Const(0)
            }
            TExprKind::Block(items) => {
                let mut last = Operand::Const(0);
                for item in items {
                    last = self.lower_expr(item);
                }
                last
            }
            TExprKind::If { cond, then, else_ } => {
                let c = self.lower_expr(cond);
                let result = self.new_var();
                let (tb, eb) = self.branch_new(c);
                let join = self.new_block();
                self.switch_to(tb);
                self.lower_into(then, Dest::Join(result, join));
                self.switch_to(eb);
                match else_ {
                    Some(else_) => self.lower_into(else_, Dest::Join(result, join)),
                    None => {
                        self.assign(result, Rvalue::Use(Operand::Const(0)));
                        self.terminate(Terminator::Jump(join));
                    }
                }
                self.switch_to(join);
                Operand::Var(result)
            }
            TExprKind::Case { scrutinee, arms } => {
                let result = self.new_var();
                let join = self.new_block();
                self.lower_case(scrutinee, arms, Dest::Join(result, join), e.span);
                self.switch_to(join);
                Operand::Var(result)
            }
            TExprKind::For {
                pattern,
                iter,
                body,
            } => self.lower_for(pattern, iter, body, e.span),
            TExprKind::Lambda {
                params,
                captures,
                body,
            } => self.lower_lambda(params, captures, body),
        }
    }

    /// Call a runtime function and return its result (in a fresh temp).
    pub(crate) fn call_extern(&mut self, symbol: &str, args: Vec<Operand>) -> Operand {
        self.cx.use_extern(symbol, args.len() as u32);
        self.temp(Rvalue::CallExtern {
            symbol: symbol.to_string(),
            args,
        })
    }

    /// Emit a call; a unit-typed result is not kept (its word is 0 by the ABI).
    fn emit_call(&mut self, rv: Rvalue, ty: &Ty) -> Operand {
        if *ty == Ty::Unit {
            self.emit(Stmt::Eval(rv));
            Operand::Const(0)
        } else {
            self.temp(rv)
        }
    }

    /// Whether a call in tail position is a self call that becomes a jump
    /// back to the loop header.
    fn is_self_loop(&self, callee: &Callee, nargs: usize) -> bool {
        matches!(callee, Callee::Fn(name) if !self.is_closure
            && self.loop_header.is_some()
            && *name == self.name
            && nargs as u32 == self.params)
    }

    /// The call rvalue with its arguments evaluated. A call of a MIR function
    /// or closure is preceded by its safepoint; runtime functions return to
    /// Snow without calling it back, so they need none.
    fn lower_call_rvalue(&mut self, callee: &Callee, args: &[TExpr], span: Span) -> Rvalue {
        let rv = match callee {
            Callee::Fn(name) => Rvalue::Call {
                func: name.clone(),
                args: args.iter().map(|a| self.lower_expr(a)).collect(),
            },
            Callee::Value(f) => {
                let closure = self.lower_expr(f);
                let args = args.iter().map(|a| self.lower_expr(a)).collect();
                Rvalue::CallClosure { closure, args }
            }
            Callee::Service { service, op } => {
                let args: Vec<Operand> = args.iter().map(|a| self.lower_expr(a)).collect();
                return self.service_op(*service, op, args);
            }
            Callee::Extern { name, type_args } => {
                let (symbol, mut words) = self.extern_symbol(name, type_args);
                words.extend(args.iter().map(|a| self.lower_expr(a)));
                self.cx.use_extern(&symbol, words.len() as u32);
                return Rvalue::CallExtern {
                    symbol,
                    args: words,
                };
            }
        };
        let check = self.cx.check(span);
        self.emit(check);
        rv
    }

    fn lower_call(&mut self, callee: &Callee, args: &[TExpr], ty: &Ty, span: Span) -> Operand {
        if let (Callee::Extern { name, .. }, [msg]) = (callee, args) {
            if name == snowc_types::lang::PANIC {
                let m = self.lower_expr(msg);
                let pos = self.cx.pos(span);
                self.terminate(Terminator::PanicWith {
                    message: m,
                    file: pos.file,
                    line: pos.line,
                    col: pos.col,
                });
                // What follows the call is never reached.
                let dead = self.new_block();
                self.switch_to(dead);
                return Operand::Const(0);
            }
        }
        let rv = self.lower_call_rvalue(callee, args, span);
        self.emit_call(rv, ty)
    }

    /// The runtime symbol of an extern and the type descriptors to pass before
    /// its arguments (one per type variable of its signature).
    pub(crate) fn extern_symbol(&mut self, name: &str, type_args: &[Ty]) -> (String, Vec<Operand>) {
        match self.cx.extern_by_name.get(name) {
            Some(ext) => {
                let n = ext.type_params as usize;
                let symbol = ext.symbol.clone();
                let mut tds: Vec<Operand> = type_args
                    .iter()
                    .take(n)
                    .map(|t| self.type_desc(t))
                    .collect();
                tds.resize(n, Operand::Const(0));
                (symbol, tds)
            }
            None => {
                // Not in the table (cannot happen for checked input): derive the symbol.
                let symbol = snowc_types::lang::runtime_symbol_of(name);
                (
                    symbol,
                    type_args.iter().map(|t| self.type_desc(t)).collect(),
                )
            }
        }
    }

    fn lower_interp(&mut self, parts: &[TExpr]) -> Operand {
        let mut acc: Option<Operand> = None;
        for p in parts {
            let v = self.lower_expr(p);
            let s = match p.ty {
                Ty::Int => self.call_extern(rt::INT_TO_STRING, vec![v]),
                Ty::Float => self.call_extern(rt::FLOAT_TO_STRING, vec![v]),
                Ty::Bool => self.call_extern(rt::BOOL_TO_STRING, vec![v]),
                _ => v,
            };
            acc = Some(match acc {
                None => s,
                Some(a) => self.call_extern(rt::STRING_CONCAT, vec![a, s]),
            });
        }
        acc.unwrap_or_else(|| Operand::Str(String::new()))
    }

    fn lower_binary(&mut self, op: BinOp, lhs: &TExpr, rhs: &TExpr, span: Span) -> Operand {
        match op {
            BinOp::And | BinOp::Or => {
                let result = self.new_var();
                let l = self.lower_expr(lhs);
                self.assign(result, Rvalue::Use(l.clone()));
                let rhs_b = self.new_block();
                let join = self.new_block();
                let (then, else_) = if op == BinOp::And {
                    (rhs_b, join)
                } else {
                    (join, rhs_b)
                };
                self.terminate(Terminator::Branch {
                    cond: l,
                    then,
                    else_,
                });
                self.switch_to(rhs_b);
                self.lower_into(rhs, Dest::Join(result, join));
                self.switch_to(join);
                return Operand::Var(result);
            }
            _ => {}
        }
        let l = self.lower_expr(lhs);
        let r = self.lower_expr(rhs);
        let prim = |p: PrimOp, l: Operand, r: Operand, this: &mut Self| {
            this.temp(Rvalue::Prim(p, vec![l, r]))
        };
        match (&lhs.ty, op) {
            (_, BinOp::Concat) => self.call_extern(rt::STRING_CONCAT, vec![l, r]),
            (Ty::Con(..), BinOp::Eq) => self.equal(&lhs.ty, l, r),
            (Ty::Con(..), BinOp::Ne) => {
                let eq = self.equal(&lhs.ty, l, r);
                self.temp(Rvalue::Prim(PrimOp::Not, vec![eq]))
            }
            (Ty::String, BinOp::Eq) => self.call_extern(rt::STRING_EQ, vec![l, r]),
            (Ty::String, BinOp::Ne) => {
                let eq = self.call_extern(rt::STRING_EQ, vec![l, r]);
                self.temp(Rvalue::Prim(PrimOp::Not, vec![eq]))
            }
            (Ty::String, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge) => {
                let c = self.call_extern(rt::STRING_CMP, vec![l, r]);
                prim(int_cmp(op), c, Operand::Const(0), self)
            }
            (Ty::Float, _) => {
                let p = match op {
                    BinOp::Add => PrimOp::FloatAdd,
                    BinOp::Sub => PrimOp::FloatSub,
                    BinOp::Mul => PrimOp::FloatMul,
                    BinOp::Div => PrimOp::FloatDiv,
                    BinOp::Rem => return self.float_rem(l, r),
                    BinOp::Eq => PrimOp::FloatEq,
                    BinOp::Ne => PrimOp::FloatNe,
                    BinOp::Lt => PrimOp::FloatLt,
                    BinOp::Le => PrimOp::FloatLe,
                    BinOp::Gt => PrimOp::FloatGt,
                    _ => PrimOp::FloatGe,
                };
                prim(p, l, r, self)
            }
            (_, BinOp::Div | BinOp::Rem) => self.checked_div(op == BinOp::Div, l, r, span),
            (_, BinOp::Add) => prim(PrimOp::IntAdd, l, r, self),
            (_, BinOp::Sub) => prim(PrimOp::IntSub, l, r, self),
            (_, BinOp::Mul) => prim(PrimOp::IntMul, l, r, self),
            (_, _) => prim(int_cmp(op), l, r, self),
        }
    }

    /// Float `%` (fmod) has no primitive: the runtime service `snow_float_rem`.
    fn float_rem(&mut self, l: Operand, r: Operand) -> Operand {
        self.call_extern(rt::FLOAT_REM, vec![l, r])
    }

    /// Int `/` and `%`: panic on a zero divisor, `-1` handled without `sdiv`.
    fn checked_div(&mut self, is_div: bool, l: Operand, r: Operand, span: Span) -> Operand {
        let p = if is_div {
            PrimOp::IntDiv
        } else {
            PrimOp::IntRem
        };
        if let Operand::Const(k) = r {
            if k != 0 && k != -1 {
                return self.temp(Rvalue::Prim(p, vec![l, r]));
            }
        }
        let result = self.new_var();
        let is_zero = self.temp(Rvalue::Prim(
            PrimOp::IntEq,
            vec![r.clone(), Operand::Const(0)],
        ));
        let (panic_b, nonzero) = self.branch_new(is_zero);
        self.switch_to(panic_b);
        let panic = self.cx.panic("division by zero", span);
        self.terminate(panic);
        self.switch_to(nonzero);
        let is_m1 = self.temp(Rvalue::Prim(
            PrimOp::IntEq,
            vec![r.clone(), Operand::Const(-1)],
        ));
        let (m1, other) = self.branch_new(is_m1);
        let join = self.new_block();
        self.switch_to(m1);
        let v = if is_div {
            Rvalue::Prim(PrimOp::IntSub, vec![Operand::Const(0), l.clone()])
        } else {
            Rvalue::Use(Operand::Const(0))
        };
        self.assign(result, v);
        self.terminate(Terminator::Jump(join));
        self.switch_to(other);
        self.assign(result, Rvalue::Prim(p, vec![l, r]));
        self.terminate(Terminator::Jump(join));
        self.switch_to(join);
        Operand::Var(result)
    }

    /// `for x in xs do body end`: the list of body values, built reversed then reversed.
    fn lower_for(
        &mut self,
        pattern: &snowc_types::tast::TPattern,
        iter: &TExpr,
        body: &TExpr,
        span: Span,
    ) -> Operand {
        let xs = self.lower_expr(iter);
        let acc = self.new_var();
        let cur = self.new_var();
        self.assign(acc, Rvalue::Use(Operand::Const(0)));
        self.assign(cur, Rvalue::Use(xs));
        let header = self.new_block();
        self.terminate(Terminator::Jump(header));
        self.switch_to(header);
        let done = self.temp(Rvalue::Prim(
            PrimOp::IntEq,
            vec![Operand::Var(cur), Operand::Const(0)],
        ));
        let body_b = self.new_block();
        let exit = self.new_block();
        self.terminate(Terminator::Branch {
            cond: done,
            then: exit,
            else_: body_b,
        });
        self.switch_to(body_b);
        match &pattern.kind {
            snowc_types::tast::TPatternKind::Bind(local) => {
                let x = self.bind_local(*local);
                self.assign(x, Rvalue::ListHead(Operand::Var(cur)));
            }
            _ => {
                let x = self.temp(Rvalue::ListHead(Operand::Var(cur)));
                self.bind_irrefutable(pattern, x);
            }
        }
        let v = self.lower_expr(body);
        self.cx.use_extern(rt::LIST_CONS, 2);
        let args = vec![v, Operand::Var(acc)];
        self.assign(
            acc,
            Rvalue::CallExtern {
                symbol: rt::LIST_CONS.into(),
                args,
            },
        );
        self.assign(cur, Rvalue::ListTail(Operand::Var(cur)));
        let check = self.cx.check(span);
        self.emit(check);
        self.terminate(Terminator::Jump(header));
        self.switch_to(exit);
        self.call_extern(rt::LIST_REVERSE, vec![Operand::Const(0), Operand::Var(acc)])
    }
}

fn int_cmp(op: BinOp) -> PrimOp {
    match op {
        BinOp::Eq => PrimOp::IntEq,
        BinOp::Ne => PrimOp::IntNe,
        BinOp::Lt => PrimOp::IntLt,
        BinOp::Le => PrimOp::IntLe,
        BinOp::Gt => PrimOp::IntGt,
        _ => PrimOp::IntGe,
    }
}
