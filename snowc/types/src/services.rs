//! Services: state that outlives a callback (docs/LANGUAGE.md "Services").
//!
//! A `service Counter do ... end` of module `m` is, to the checker:
//! - a type `Counter` (the handle: opaque, compared by identity);
//! - its `fn init(...)`, checked like any function, whose result type is
//!   the service's state type (it must be fully known);
//! - one function per handler, synthesised here from its syntax: the
//!   state parameter (`|n|`) first, then the handler's own parameters; a
//!   `call` returns `(reply, new_state)`, a `cast` the new state;
//! - the operations `Counter.start(init's parameters) -> Counter`,
//!   `Counter.name(handle, params) -> reply` (a call) or `-> ()` (a cast),
//!   typed from those functions ([`Checker::service_op_type`]).
//!
//! Running them (one message at a time, the service's own heap, deadlock
//! detection) is the runtime's (snow-rt `stdlib/service.rs`); MIR lowering
//! turns an operation into a call of it with the values' type descriptors.

use crate::check::{Checker, HandlerInfo, Home, Role, ServiceInfo, Target};
use crate::diagnostics::{
    DuplicateHandler, FunctionInService, ServiceHandlerResult, ServiceWithoutInit,
    StateTypeUnknown, TypeError, UnknownModuleFunction,
};
use crate::lang;
use crate::tast::{THandler, TService, Ty};
use crate::ty::suggest;
use snowc_syntax::ast::{self, HandlerKind, Ident, Item, Param};
use snowc_syntax::graph::Program;
use snowc_syntax::Span;

/// A handler's synthesised function definitions, per module, per service
/// (owned here so that the checker may borrow them like the program's own).
pub(crate) struct Synth {
    /// `defs[m][k]`: the handlers of the k-th service of module `m`.
    pub defs: Vec<Vec<Vec<ast::FnDef>>>,
}

/// `Get` -> `get`, `AddItem` -> `add_item`.
pub fn op_name(handler: &str) -> String {
    snowc_syntax::graph::snake_case(handler)
}

/// The handler functions of every service of the program.
pub(crate) fn synthesize(program: &Program) -> Synth {
    let defs = program
        .modules
        .iter()
        .map(|m| {
            m.ast
                .items
                .iter()
                .filter_map(|i| match i {
                    Item::Service(s) => Some(s),
                    _ => None,
                })
                .map(|s| s.handlers.iter().map(|h| handler_fn(s, h)).collect())
                .collect()
        })
        .collect();
    Synth { defs }
}

/// `call Add(k :: Int) :: Int do |n| body end` as `fn add(n, k :: Int) = body`.
fn handler_fn(s: &ast::ServiceDef, h: &ast::Handler) -> ast::FnDef {
    let mut params: Vec<Param> = vec![h.state.clone()];
    params.extend(h.params.iter().cloned());
    ast::FnDef {
        public: false,
        name: Ident {
            name: format!("{}.{}", s.name.name, op_name(&h.name.name)),
            span: h.name.span,
        },
        params,
        ret: None,
        body: h.body.clone(),
        span: h.span,
    }
}

impl<'a> Checker<'a> {
    /// The functions of module `m`'s services: each `init` and handler.
    pub(crate) fn declare_service_fns(&mut self, m: usize, synth: &'a Synth) {
        let ast = self.mods[m].ast;
        let services = ast.items.iter().filter_map(|i| match i {
            Item::Service(s) => Some(s),
            _ => None,
        });
        for (k, def) in services.enumerate() {
            let Some(internal) = self.mods[m].types.get(&def.name.name).cloned() else {
                continue;
            };
            // A duplicate type of the same name (reported) is not a service.
            if self.types.get(&internal).map(|t| t.span) != Some(def.name.span) {
                continue;
            }
            let s = self.services.len();
            let init = match &def.init {
                Some(f) => {
                    let i = self.fns.len();
                    self.fns.push(crate::check::FnEntry::new(
                        format!("{internal}$init"),
                        f,
                        Home::User(m as u32),
                    ));
                    self.roles.push(Role::Init(s));
                    Some(i)
                }
                None => {
                    self.errors.push(
                        ServiceWithoutInit {
                            span: def.name.span,
                            service: def.name.name.clone(),
                        }
                        .into(),
                    );
                    None
                }
            };
            let mut handlers: Vec<HandlerInfo> = Vec::new();
            for (j, h) in def.handlers.iter().enumerate() {
                let op = op_name(&h.name.name);
                let clash = handlers.iter().find(|x| x.op == op).map(|x| x.span);
                if clash.is_some() || op == "start" {
                    self.errors.push(
                        DuplicateHandler {
                            span: h.name.span,
                            service: def.name.name.clone(),
                            op: op.clone(),
                            first: clash,
                        }
                        .into(),
                    );
                    continue;
                }
                let i = self.fns.len();
                self.fns.push(crate::check::FnEntry::new(
                    format!("{internal}${op}"),
                    &synth.defs[m][k][j],
                    Home::User(m as u32),
                ));
                self.roles.push(Role::Handler(s, handlers.len()));
                handlers.push(HandlerInfo {
                    kind: h.kind,
                    op,
                    fun: i,
                    span: h.name.span,
                });
            }
            self.service_of.insert(internal.clone(), s);
            self.services.push(ServiceInfo {
                type_name: internal,
                def,
                module: m,
                init,
                handlers,
            });
        }
    }

    /// The service a capitalised qualifier names in `ctx` (`Counter` of
    /// `Counter.get(c)`): a service type in scope.
    pub(crate) fn service_in_scope(&self, ctx: Home, name: &str) -> Option<usize> {
        let Home::User(m) = ctx else {
            return None;
        };
        let md = &self.mods[m as usize];
        let internal = md.types.get(name).or_else(|| md.imported_types.get(name))?;
        self.service_of.get(internal).copied()
    }

    /// `Counter.op`: the operation of service `s` named `name`.
    pub(crate) fn service_target(
        &self,
        s: usize,
        module: &Ident,
        name: &Ident,
    ) -> Result<Target, Box<TypeError>> {
        let svc = &self.services[s];
        if name.name == "start" {
            return Ok(Target::ServiceStart(s));
        }
        if let Some(j) = svc.handlers.iter().position(|h| h.op == name.name) {
            return Ok(Target::ServiceOp(s, j));
        }
        let mut ops: Vec<&str> = vec!["start"];
        ops.extend(svc.handlers.iter().map(|h| h.op.as_str()));
        Err(Box::new(
            UnknownModuleFunction {
                span: name.span,
                module: module.name.clone(),
                name: name.name.clone(),
                suggestion: suggest(&name.name, ops),
            }
            .into(),
        ))
    }

    /// The handle type of service `s`.
    pub(crate) fn handle_type(&self, s: usize) -> Ty {
        Ty::Con(self.services[s].type_name.clone(), Vec::new())
    }

    /// The type of an operation at a use site: `start` takes init's
    /// parameters and gives the handle; a handler's operation takes the
    /// handle and its parameters and gives the reply (a call) or `()`.
    pub(crate) fn service_op_type(&mut self, t: Target) -> Ty {
        match t {
            Target::ServiceStart(s) => {
                let handle = self.handle_type(s);
                match self.services[s].init {
                    Some(i) => {
                        let t = self.fn_type(i);
                        match self.subst.shallow(&t) {
                            Ty::Fun(ps, _) => Ty::Fun(ps, Box::new(handle)),
                            _ => Ty::Fun(Vec::new(), Box::new(handle)),
                        }
                    }
                    None => Ty::Fun(Vec::new(), Box::new(handle)),
                }
            }
            Target::ServiceOp(s, j) => {
                let handle = self.handle_type(s);
                let h = &self.services[s].handlers[j];
                let (kind, fun) = (h.kind, h.fun);
                let n = self.fns[fun].def.params.len();
                let fty = self.fn_type(fun);
                let (mut ps, r) = match self.subst.shallow(&fty) {
                    Ty::Fun(ps, r) => (ps, *r),
                    _ => {
                        let ps: Vec<Ty> = (0..n).map(|_| self.subst.fresh()).collect();
                        (ps, self.subst.fresh())
                    }
                };
                if !ps.is_empty() {
                    ps.remove(0);
                }
                let reply = match kind {
                    HandlerKind::Call => {
                        let reply = self.subst.fresh();
                        let state = self.subst.fresh();
                        let _ = self
                            .subst
                            .unify(&r, &lang::tuple(vec![reply.clone(), state]));
                        reply
                    }
                    HandlerKind::Cast => Ty::Unit,
                };
                let mut params = vec![handle];
                params.extend(ps);
                Ty::Fun(params, Box::new(reply))
            }
            _ => self.subst.fresh(),
        }
    }

    /// The state type of service `s` (its init's result), once init is
    /// inferred; `None` (reported once) when it is not fully known.
    pub(crate) fn state_type(&mut self, s: usize) -> Option<Ty> {
        let init = self.services[s].init?;
        let fty = self.fn_type(init);
        let ret = match self.subst.resolve(&fty) {
            Ty::Fun(_, r) => *r,
            _ => return None,
        };
        let mut vars = Vec::new();
        self.subst.free_vars(&ret, &mut vars);
        if vars.is_empty() && !has_rigid(&ret) {
            return Some(ret);
        }
        if !self.state_reported.contains(&s) {
            self.state_reported.push(s);
            let def = self.services[s].def;
            self.errors.push(
                StateTypeUnknown {
                    span: def.init.as_ref().map_or(def.name.span, |f| f.name.span),
                    service: def.name.name.clone(),
                    ty: ret,
                }
                .into(),
            );
        }
        None
    }

    /// A handler's signature: the state first, its parameters, and its
    /// result type (`(reply, state)` or the state).
    pub(crate) fn handler_signature(&mut self, s: usize, j: usize, params: &mut [Ty]) -> Ty {
        let state = self.state_type(s).unwrap_or_else(|| self.subst.fresh());
        if let Some(p0) = params.first() {
            let p0 = p0.clone();
            let span = self.services[s].def.handlers[j].state.span;
            self.expect(&p0, &state, span);
            params[0] = state.clone();
        }
        let h = &self.services[s].def.handlers[j];
        match h.kind {
            HandlerKind::Call => {
                let reply = match &h.reply {
                    Some(te) => {
                        let home = Home::User(self.services[s].module as u32);
                        let mut tvars = Default::default();
                        let mut env = Checker::fn_types(
                            &self.types,
                            &self.mods,
                            self.table,
                            home,
                            &mut tvars,
                            false,
                            &mut self.subst,
                        );
                        crate::annot::resolve(te, &mut env, &mut self.errors)
                    }
                    None => self.subst.fresh(),
                };
                lang::tuple(vec![reply, state])
            }
            HandlerKind::Cast => state,
        }
    }

    /// Checks a handler's body against its result type, with an error that
    /// says what a handler returns.
    pub(crate) fn check_handler_result(
        &mut self,
        s: usize,
        j: usize,
        ret: &Ty,
        body: &Ty,
        span: Span,
    ) {
        if self.subst.unify(ret, body).is_ok() {
            return;
        }
        let h = &self.services[s].def.handlers[j];
        self.errors.push(
            ServiceHandlerResult {
                span,
                kind: match h.kind {
                    HandlerKind::Call => "call",
                    HandlerKind::Cast => "cast",
                },
                expected: self.subst.resolve(ret),
                found: self.subst.resolve(body),
            }
            .into(),
        );
    }

    /// After inference: what the runtime copies between heaps (the state,
    /// arguments, replies) may not hold functions; and the services for
    /// the typed program.
    pub(crate) fn finish_services(&mut self) -> Vec<TService> {
        let mut out = Vec::new();
        for s in 0..self.services.len() {
            let Some(state) = self.state_type(s) else {
                continue;
            };
            let init = self.services[s].init.expect("a state type comes from init");
            let init_ty = self.fn_type(init);
            let init_params = match self.subst.resolve(&init_ty) {
                Ty::Fun(ps, _) => ps,
                _ => Vec::new(),
            };
            let def = self.services[s].def;
            let mut bad: Vec<(Span, Ty)> = Vec::new();
            if holds_fun(&state, &self.types, &mut Vec::new()) {
                bad.push((def.name.span, state.clone()));
            }
            for p in &init_params {
                if holds_fun(p, &self.types, &mut Vec::new()) {
                    bad.push((
                        def.init.as_ref().map_or(def.name.span, |f| f.name.span),
                        p.clone(),
                    ));
                }
            }
            let mut handlers = Vec::new();
            for j in 0..self.services[s].handlers.len() {
                let (kind, op, fun, span) = {
                    let h = &self.services[s].handlers[j];
                    (h.kind, h.op.clone(), h.fun, h.span)
                };
                let fty = self.fn_type(fun);
                let (params, ret) = match self.subst.resolve(&fty) {
                    Ty::Fun(ps, r) => (ps.into_iter().skip(1).collect::<Vec<_>>(), *r),
                    _ => (Vec::new(), Ty::Unit),
                };
                let reply = match kind {
                    HandlerKind::Call => lang::tuple_elems(&ret)
                        .and_then(|e| e.first().cloned())
                        .unwrap_or(Ty::Unit),
                    HandlerKind::Cast => Ty::Unit,
                };
                for t in params.iter().chain(std::iter::once(&reply)) {
                    if holds_fun(t, &self.types, &mut Vec::new()) {
                        bad.push((span, t.clone()));
                    }
                }
                handlers.push(THandler {
                    op,
                    call: kind == HandlerKind::Call,
                    fun: self.fns[fun].name.clone(),
                    params,
                    reply,
                });
            }
            for (span, ty) in bad {
                self.errors.push(
                    FunctionInService {
                        span,
                        service: def.name.name.clone(),
                        ty,
                    }
                    .into(),
                );
            }
            out.push(TService {
                name: self.services[s].type_name.clone(),
                init: self.fns[init].name.clone(),
                init_params,
                state,
                handlers,
            });
        }
        out
    }
}

/// Does a value of type `t` hold a function (through the fields of
/// structs and constructors too)?
fn holds_fun(
    t: &Ty,
    types: &std::collections::BTreeMap<String, crate::std_lib::TypeInfo>,
    seen: &mut Vec<String>,
) -> bool {
    match t {
        Ty::Fun(..) => true,
        Ty::Con(n, args) => {
            if args.iter().any(|a| holds_fun(a, types, seen)) {
                return true;
            }
            if seen.contains(n) {
                return false;
            }
            let Some(info) = types.get(n) else {
                return false;
            };
            seen.push(n.clone());
            let fields = info
                .variants
                .iter()
                .flat_map(|v| v.fields.iter())
                .chain(info.fields.iter().flatten().map(|(_, t)| t));
            let found = fields
                .map(|f| crate::ty::subst_params(f, args))
                .any(|f| holds_fun(&f, types, seen));
            seen.pop();
            found
        }
        _ => false,
    }
}

fn has_rigid(t: &Ty) -> bool {
    match t {
        Ty::Con(n, a) if a.is_empty() => crate::ty::is_rigid(n),
        Ty::Con(_, a) => a.iter().any(has_rigid),
        Ty::Fun(ps, r) => ps.iter().any(has_rigid) || has_rigid(r),
        _ => false,
    }
}
