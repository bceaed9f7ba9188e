//! The call graph: which functions each function refers to (resolved with the
//! same scoping rules as inference), and Tarjan's SCC algorithm over it.

use crate::check::{Checker, Home, Target};
use rustc_hash::FxHashMap;
use snowc_syntax::ast::{Expr, ExprKind, Pattern, PatternKind, StrPart};

struct Walk<'c, 'a> {
    ck: &'c Checker<'a>,
    module: Home,
    // Names borrow from the AST: no allocation per binding.
    scope: FxHashMap<&'a str, u32>,
    log: Vec<&'a str>,
    out: Vec<usize>,
}

impl<'a> Walk<'_, 'a> {
    fn bind(&mut self, name: &'a str) {
        *self.scope.entry(name).or_insert(0) += 1;
        self.log.push(name);
    }
    fn restore(&mut self, mark: usize) {
        while self.log.len() > mark {
            let n = self.log.pop().unwrap();
            if let Some(c) = self.scope.get_mut(n) {
                *c -= 1;
            }
        }
    }
    fn is_local(&self, name: &str) -> bool {
        self.scope.get(name).is_some_and(|c| *c > 0)
    }
    fn target(&mut self, t: Option<Target>) {
        match t {
            Some(Target::Fn(i)) => self.out.push(i),
            // An operation is typed from its service's functions: infer them first.
            Some(Target::ServiceStart(s)) => {
                if let Some(i) = self.ck.services[s].init {
                    self.out.push(i);
                }
            }
            Some(Target::ServiceOp(s, j)) => {
                self.out.push(self.ck.services[s].handlers[j].fun);
                if let Some(i) = self.ck.services[s].init {
                    self.out.push(i);
                }
            }
            _ => {}
        }
    }
    fn pattern(&mut self, p: &'a Pattern) {
        match &p.kind {
            PatternKind::Bind(x) => self.bind(&x.name),
            PatternKind::Ctor { args, .. } | PatternKind::Tuple(args) => {
                args.iter().for_each(|a| self.pattern(a))
            }
            PatternKind::Struct { fields, .. } => {
                fields.iter().for_each(|f| self.pattern(&f.pattern))
            }
            PatternKind::Cons { head, tail } => {
                self.pattern(head);
                self.pattern(tail)
            }
            _ => {}
        }
    }
    fn expr(&mut self, e: &'a Expr) {
        match &e.kind {
            ExprKind::Var(x) => {
                if !self.is_local(&x.name) {
                    let t = self.ck.lookup_global(self.module, &x.name);
                    self.target(t);
                }
            }
            ExprKind::Qualified { module, name } => {
                let t = self.ck.lookup_qualified(self.module, module, name).ok();
                self.target(t);
            }
            ExprKind::Str(parts) => {
                for p in parts {
                    if let StrPart::Interp(e) = p {
                        self.expr(e)
                    }
                }
            }
            ExprKind::Tuple(xs) => xs.iter().for_each(|x| self.expr(x)),
            ExprKind::StructLit { fields, .. } => fields.iter().for_each(|f| self.expr(&f.value)),
            ExprKind::Field { expr, .. } => self.expr(expr),
            ExprKind::Update { expr, fields } => {
                self.expr(expr);
                fields.iter().for_each(|f| self.expr(&f.value));
            }
            ExprKind::Cons { items, tail } => {
                items.iter().for_each(|x| self.expr(x));
                self.expr(tail);
            }
            ExprKind::List(xs) | ExprKind::Block(xs) => {
                let m = self.log.len();
                xs.iter().for_each(|x| self.expr(x));
                self.restore(m);
            }
            ExprKind::Call { callee, args } => {
                self.expr(callee);
                args.iter().for_each(|x| self.expr(x));
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                self.expr(lhs);
                self.expr(rhs)
            }
            ExprKind::Unary { expr, .. } => self.expr(expr),
            ExprKind::Let { pattern, value, .. } => {
                self.expr(value);
                self.pattern(pattern);
            }
            ExprKind::If { cond, then, else_ } => {
                self.expr(cond);
                let m = self.log.len();
                self.expr(then);
                self.restore(m);
                if let Some(e) = else_ {
                    self.expr(e);
                    self.restore(m);
                }
            }
            ExprKind::Case { scrutinee, arms } => {
                self.expr(scrutinee);
                for a in arms {
                    let m = self.log.len();
                    self.pattern(&a.pattern);
                    if let Some(g) = &a.guard {
                        self.expr(g);
                    }
                    self.expr(&a.body);
                    self.restore(m);
                }
            }
            ExprKind::For {
                pattern,
                iter,
                body,
            } => {
                self.expr(iter);
                let m = self.log.len();
                self.pattern(pattern);
                self.expr(body);
                self.restore(m);
            }
            ExprKind::Lambda { params, body } => {
                let m = self.log.len();
                params.iter().for_each(|p| self.bind(&p.name.name));
                self.expr(body);
                self.restore(m);
            }
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Bool(_)
            | ExprKind::Nil
            | ExprKind::Ctor(_)
            | ExprKind::QualifiedCtor { .. }
            | ExprKind::Error => {}
        }
    }
}

/// Functions referenced by function `i` (sorted, deduplicated).
pub(crate) fn collect<'a>(ck: &Checker<'a>, i: usize) -> Vec<usize> {
    let f = &ck.fns[i];
    let mut w = Walk {
        ck,
        module: f.module,
        scope: FxHashMap::default(),
        log: Vec::new(),
        out: Vec::new(),
    };
    for p in &f.def.params {
        w.bind(&p.name.name);
    }
    w.expr(&f.def.body);
    let mut out = w.out;
    out.sort_unstable();
    out.dedup();
    out
}

/// Strongly connected components, each listed after every SCC it depends on
/// (iterative Tarjan). Within an SCC, nodes are sorted.
pub(crate) fn tarjan(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = edges.len();
    const NONE: usize = usize::MAX;
    let mut index = vec![NONE; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut out = Vec::new();
    for root in 0..n {
        if index[root] != NONE {
            continue;
        }
        let mut call: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut ei)) = call.last_mut() {
            if *ei < edges[v].len() {
                let w = edges[v][*ei];
                *ei += 1;
                if index[w] == NONE {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    call.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(parent, _)) = call.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut scc = Vec::new();
                    loop {
                        let w = stack.pop().unwrap();
                        on_stack[w] = false;
                        scc.push(w);
                        if w == v {
                            break;
                        }
                    }
                    scc.sort_unstable();
                    out.push(scc);
                }
            }
        }
    }
    out
}
