//! `case` compiled to a decision tree (Maranget, "Compiling pattern matching
//! to good decision trees", ML Workshop 2008).
//!
//! The arms form a clause matrix: one row per arm, one column per
//! *occurrence* (a part of the scrutinee: the scrutinee itself, a field of a
//! constructor, the head or tail of a list cell). [`build`] picks a column
//! whose pattern in the first row is refutable and tests it once, with one
//! branch per constructor or literal found in the column: the branch of a
//! constructor continues with the rows that accept it (its fields become new
//! columns), the default branch with the rows that accept anything there.
//! When the first row accepts everything it is the arm taken: its bindings
//! are made, and a failed guard continues with the rows below it. Arm order
//! (first match wins) holds because every branch keeps its rows in order.
//!
//! Column choice (the heuristic of the paper's section 8): the column the
//! most rows from the top need a test of (prefix `p`), then the one with the
//! fewest rows accepting anything (small default `d`), then the leftmost.
//!
//! The tree is emitted ([`FnLower::lower_case_tree`]) as MIR: a tag or an Int
//! column is one `Switch` (LLVM `switch`); a String column switches on the
//! length and compares the bytes only of the literals of that length; Bool
//! and list columns are one `Branch`. An occurrence is loaded once per path,
//! where it is first needed. Arm bodies are never duplicated: an arm reached
//! from several leaves gets one body block the leaves jump to (its bindings
//! are then variables of their own, assigned in each leaf); an arm reached
//! from one leaf is emitted in place. Guards are emitted at each leaf of
//! their arm. A tree larger than [`budget`] (the matrix blows up on rare
//! shapes of many refutable columns) is not built and the caller compiles
//! the `case` arm by arm, whose code is linear in the patterns.

use rustc_hash::FxHashMap;
use snowc_syntax::Span;
use snowc_types::lang::rt;
use snowc_types::tast::{LocalId, TArm, TPattern, TPatternKind};

use super::{Dest, FnLower};
use crate::mir::{BlockId, Operand, PrimOp, Rvalue, Terminator};

/// An occurrence: an index into [`Tree::occs`]; 0 is the scrutinee.
type Occ = usize;
const ROOT: Occ = 0;

/// How an occurrence is read from its parent (once the parent's
/// constructor is known).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Access {
    Field(u32),
    /// Word `i` of a tuple or struct.
    Record(u32),
    Head,
    Tail,
}

/// What a test of a column distinguishes: a constructor or a literal.
/// A Float is kept as its bits with `-0.0` made `0.0`: one key for the
/// values `==` (the `float_eq` that tests it) does not tell apart. (A NaN
/// pattern matches nothing, whatever its key.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key<'t> {
    Tag(u32),
    Int(i64),
    Float(u64),
    Str(&'t str),
    Bool(bool),
    Nil,
    Cons,
}

#[derive(Debug)]
enum Node<'t> {
    /// No arm matches (only after failed guards in a well-typed program).
    Fail,
    /// Arm `arm` matches once `binds` are made (and its guard holds, if it
    /// has one; `guard_fail` is where matching goes on when it does not).
    Leaf {
        arm: usize,
        binds: Vec<(LocalId, Occ)>,
        guard_fail: Option<Box<Node<'t>>>,
    },
    /// Test `occ` once: the first case whose key it has, else `default`
    /// (`None` when the cases cover every value: `true` and `false`, `[]`
    /// and `[_ | _]`).
    Test {
        occ: Occ,
        cases: Vec<(Key<'t>, Node<'t>)>,
        default: Option<Box<Node<'t>>>,
    },
}

/// The decision tree of one `case`.
pub(crate) struct Tree<'t> {
    root: Node<'t>,
    /// `occs[i]`: how occurrence `i` is read (`None` for the scrutinee).
    occs: Vec<Option<(Occ, Access)>>,
    /// How many leaves reach each arm.
    leaves: Vec<u32>,
}

/// Tree nodes allowed for a `case` whose patterns have `size` nodes in
/// total: generous for every `case` written by hand (each row is tested
/// along one path, plus the copies a row with wildcards gets in sibling
/// branches), small enough that a pathological matrix falls back early.
fn budget(size: usize) -> usize {
    8 * size + 64
}

fn pattern_size(p: &TPattern) -> usize {
    1 + match &p.kind {
        TPatternKind::Ctor { args, .. }
        | TPatternKind::Tuple(args)
        | TPatternKind::Struct { fields: args, .. } => args.iter().map(pattern_size).sum(),
        TPatternKind::Cons { head, tail } => pattern_size(head) + pattern_size(tail),
        _ => 0,
    }
}

/// The parts of a tuple or struct pattern (which needs no test: its
/// columns are expanded into their fields, [`Builder::expand_records`]).
fn record_parts(p: &TPattern) -> Option<&[TPattern]> {
    match &p.kind {
        TPatternKind::Tuple(ps) | TPatternKind::Struct { fields: ps, .. } => Some(ps),
        _ => None,
    }
}

/// The key and sub-patterns of a refutable pattern; `None` for a pattern
/// that accepts every value (`_`, a binding, `()`; records are expanded
/// before any column is tested).
fn head(p: &TPattern) -> Option<(Key<'_>, Vec<&TPattern>)> {
    let key = match &p.kind {
        TPatternKind::Wildcard
        | TPatternKind::Bind(_)
        | TPatternKind::Unit
        | TPatternKind::Tuple(_)
        | TPatternKind::Struct { .. } => return None,
        TPatternKind::Int(n) => Key::Int(*n),
        TPatternKind::Float(x) => Key::Float(if *x == 0.0 { 0 } else { x.to_bits() }),
        TPatternKind::Str(s) => Key::Str(s),
        TPatternKind::Bool(b) => Key::Bool(*b),
        TPatternKind::EmptyList => Key::Nil,
        TPatternKind::Cons { head, tail } => return Some((Key::Cons, vec![head, tail])),
        TPatternKind::Ctor { tag, args, .. } => {
            return Some((Key::Tag(*tag), args.iter().collect()))
        }
    };
    Some((key, Vec::new()))
}

fn refutable(p: Option<&TPattern>) -> bool {
    p.is_some_and(|p| {
        !matches!(
            p.kind,
            TPatternKind::Wildcard
                | TPatternKind::Bind(_)
                | TPatternKind::Unit
                | TPatternKind::Tuple(_)
                | TPatternKind::Struct { .. }
        )
    })
}

/// One row of the clause matrix: its patterns (`None`: a wildcard the
/// algorithm introduced), its arm, and the bindings made so far.
#[derive(Clone)]
struct Row<'t> {
    pats: Vec<Option<&'t TPattern>>,
    arm: usize,
    binds: Vec<(LocalId, Occ)>,
}

impl Row<'_> {
    /// Record a binding in column `c` (the column is about to be removed).
    fn bind_column(&mut self, c: usize, occ: Occ) {
        if let Some(TPatternKind::Bind(l)) = self.pats[c].map(|p| &p.kind) {
            self.binds.push((*l, occ));
        }
    }
}

struct Builder<'t> {
    arms: &'t [TArm],
    occs: Vec<Option<(Occ, Access)>>,
    memo: FxHashMap<(Occ, Access), Occ>,
    nodes_left: usize,
}

/// The decision tree of `arms`, or `None` when it would exceed the budget.
pub(crate) fn build(arms: &[TArm]) -> Option<Tree<'_>> {
    let size: usize = arms.iter().map(|a| pattern_size(&a.pattern)).sum();
    let mut b = Builder {
        arms,
        occs: vec![None],
        memo: FxHashMap::default(),
        nodes_left: budget(size),
    };
    let rows = arms
        .iter()
        .enumerate()
        .map(|(arm, a)| Row {
            pats: vec![Some(&a.pattern)],
            arm,
            binds: Vec::new(),
        })
        .collect();
    let root = b.compile(rows, vec![ROOT])?;
    let mut leaves = vec![0; arms.len()];
    count_leaves(&root, &mut leaves);
    Some(Tree {
        root,
        occs: b.occs,
        leaves,
    })
}

fn count_leaves(n: &Node, out: &mut [u32]) {
    match n {
        Node::Fail => {}
        Node::Leaf {
            arm, guard_fail, ..
        } => {
            out[*arm] += 1;
            if let Some(g) = guard_fail {
                count_leaves(g, out);
            }
        }
        Node::Test { cases, default, .. } => {
            for (_, c) in cases {
                count_leaves(c, out);
            }
            if let Some(d) = default {
                count_leaves(d, out);
            }
        }
    }
}

impl<'t> Builder<'t> {
    fn occ(&mut self, parent: Occ, access: Access) -> Occ {
        if let Some(o) = self.memo.get(&(parent, access)) {
            return *o;
        }
        self.occs.push(Some((parent, access)));
        let o = self.occs.len() - 1;
        self.memo.insert((parent, access), o);
        o
    }

    /// Replace every column holding a tuple or struct pattern by its fields
    /// (a record has one shape: no test is needed to take it apart). Rows
    /// with a wildcard there get wildcards for the fields.
    fn expand_records(&mut self, rows: &mut [Row<'t>], cols: &mut Vec<Occ>) {
        while let Some((c, arity)) = (0..cols.len()).find_map(|c| {
            rows.iter()
                .find_map(|r| r.pats[c].and_then(record_parts))
                .map(|ps| (c, ps.len()))
        }) {
            let occ = cols[c];
            let sub: Vec<Occ> = (0..arity as u32)
                .map(|i| self.occ(occ, Access::Record(i)))
                .collect();
            for r in rows.iter_mut() {
                r.bind_column(c, occ);
                let parts: Vec<Option<&'t TPattern>> = match r.pats[c].and_then(record_parts) {
                    Some(ps) => ps.iter().map(Some).collect(),
                    None => vec![None; arity],
                };
                r.pats.splice(c..=c, parts);
            }
            cols.splice(c..=c, sub);
        }
    }

    fn compile(&mut self, mut rows: Vec<Row<'t>>, mut cols: Vec<Occ>) -> Option<Node<'t>> {
        self.nodes_left = self.nodes_left.checked_sub(1)?;
        if rows.is_empty() {
            return Some(Node::Fail);
        }
        self.expand_records(&mut rows, &mut cols);
        let Some(c) = choose_column(&rows) else {
            // The first row accepts everything left: its arm is taken.
            let mut first = rows.remove(0);
            for (c, occ) in cols.iter().enumerate() {
                first.bind_column(c, *occ);
            }
            let guard_fail = match self.arms[first.arm].guard {
                Some(_) => Some(Box::new(self.compile(rows, cols)?)),
                None => None,
            };
            return Some(Node::Leaf {
                arm: first.arm,
                binds: first.binds,
                guard_fail,
            });
        };
        let occ = cols[c];
        // The keys of column `c` in order of first appearance, with arities;
        // the rows of each key and the rows accepting anything, in order.
        let mut keys: Vec<(Key<'t>, usize)> = Vec::new();
        let mut index: FxHashMap<Key<'t>, usize> = FxHashMap::default();
        let mut buckets: Vec<Vec<(usize, Vec<&'t TPattern>)>> = Vec::new();
        let mut wild: Vec<usize> = Vec::new();
        for (ri, r) in rows.iter().enumerate() {
            let Some((k, args)) = r.pats[c].and_then(head) else {
                wild.push(ri);
                continue;
            };
            let i = *index.entry(k).or_insert_with(|| {
                keys.push((k, args.len()));
                buckets.push(Vec::new());
                keys.len() - 1
            });
            if keys[i].1 != args.len() {
                // Only an ill-typed tree gets here: give up (arm by arm).
                return None;
            }
            buckets[i].push((ri, args));
        }
        let kind = |k: &Key<'t>| match k {
            Key::Nil | Key::Cons => std::mem::discriminant(&Key::Nil),
            k => std::mem::discriminant(k),
        };
        if keys.iter().any(|(k, _)| kind(k) != kind(&keys[0].0)) {
            return None;
        }
        let has = |k: &Key| index.contains_key(k);
        let complete = (has(&Key::Bool(true)) && has(&Key::Bool(false)))
            || (has(&Key::Nil) && has(&Key::Cons));
        let mut cases = Vec::with_capacity(keys.len());
        for (ki, (key, arity)) in keys.iter().enumerate() {
            let sub: Vec<Occ> = match key {
                Key::Tag(_) => (0..*arity as u32)
                    .map(|i| self.occ(occ, Access::Field(i)))
                    .collect(),
                Key::Cons => vec![self.occ(occ, Access::Head), self.occ(occ, Access::Tail)],
                _ => Vec::new(),
            };
            let mut cols2 = cols[..c].to_vec();
            cols2.extend_from_slice(&sub);
            cols2.extend_from_slice(&cols[c + 1..]);
            // The rows of this key and those accepting anything, in order.
            let (mut b, mut w) = (buckets[ki].iter().peekable(), wild.iter().peekable());
            let mut rows2 = Vec::with_capacity(buckets[ki].len() + wild.len());
            loop {
                let (ri, args): (usize, Vec<Option<&TPattern>>) = match (b.peek(), w.peek()) {
                    (Some((rb, _)), Some(rw)) if *rw < rb => {
                        (*w.next().expect("peeked"), vec![None; *arity])
                    }
                    (Some(_), _) => {
                        let (rb, args) = b.next().expect("peeked");
                        (*rb, args.iter().copied().map(Some).collect())
                    }
                    (None, Some(_)) => (*w.next().expect("peeked"), vec![None; *arity]),
                    (None, None) => break,
                };
                let mut r2 = rows[ri].clone();
                r2.bind_column(c, occ);
                r2.pats.splice(c..=c, args);
                rows2.push(r2);
            }
            cases.push((*key, self.compile(rows2, cols2)?));
        }
        let default = if complete {
            None
        } else {
            let mut cols2 = cols.clone();
            cols2.remove(c);
            let rows2 = wild
                .iter()
                .map(|&ri| {
                    let mut r2 = rows[ri].clone();
                    r2.bind_column(c, occ);
                    r2.pats.remove(c);
                    r2
                })
                .collect();
            Some(Box::new(self.compile(rows2, cols2)?))
        };
        Some(Node::Test {
            occ,
            cases,
            default,
        })
    }
}

/// The column to test next, `None` when the first row accepts everything.
/// Among the columns the first row tests: the longest run of rows from the
/// top that test it, then the fewest rows that accept anything there, then
/// the leftmost.
fn choose_column(rows: &[Row]) -> Option<usize> {
    let first = &rows[0];
    (0..first.pats.len())
        .filter(|&c| refutable(first.pats[c]))
        .min_by_key(|&c| {
            let prefix = rows.iter().take_while(|r| refutable(r.pats[c])).count();
            let defaults = rows.iter().filter(|r| !refutable(r.pats[c])).count();
            (std::cmp::Reverse(prefix), defaults, c)
        })
}

/// Emission state of one `case`.
struct Emit<'t> {
    tree: &'t Tree<'t>,
    arms: &'t [TArm],
    dest: Dest,
    span: Span,
    /// The body block of each arm reached from several leaves, once made.
    shared: Vec<Option<BlockId>>,
    /// The "no case clause matched" block, once made.
    fail: Option<BlockId>,
}

/// The value of each occurrence on the current path, once loaded.
type Env = Vec<Option<Operand>>;

/// The body block of an arm reached from several leaves (made on first use,
/// filled after the tree).
fn shared_body(st: &mut Emit, arm: usize, fl: &mut FnLower) -> BlockId {
    *st.shared[arm].get_or_insert_with(|| fl.new_block())
}

impl FnLower<'_, '_> {
    /// Emit `tree` (built from `arms`) for the scrutinee value `s`.
    pub(crate) fn lower_case_tree(
        &mut self,
        tree: &Tree,
        s: Operand,
        arms: &[TArm],
        dest: Dest,
        span: Span,
    ) {
        let mut st = Emit {
            tree,
            arms,
            dest,
            span,
            shared: vec![None; arms.len()],
            fail: None,
        };
        let mut env: Env = vec![None; tree.occs.len()];
        env[ROOT] = Some(s);
        self.emit_node(&mut st, &tree.root, env);
        // Bodies reached from several leaves, in arm order.
        for (arm, b) in st.shared.iter().enumerate() {
            if let Some(b) = b {
                self.switch_to(*b);
                self.lower_into(&arms[arm].body, dest);
            }
        }
    }

    /// Emit `node` into the current block (which it terminates).
    fn emit_node(&mut self, st: &mut Emit, node: &Node, mut env: Env) {
        match node {
            Node::Fail => {
                let panic = self.cx.panic("no case clause matched", st.span);
                self.terminate(panic);
            }
            Node::Leaf {
                arm,
                binds,
                guard_fail,
            } => self.emit_leaf(st, *arm, binds, guard_fail.as_deref(), env),
            Node::Test {
                occ,
                cases,
                default,
            } => {
                let v = self.occ_value(st.tree, *occ, &mut env);
                let default = default.as_deref();
                match &cases[0].0 {
                    Key::Tag(_) => {
                        let t = self.temp(Rvalue::GetTag(v));
                        let cases = cases.iter().map(|(k, n)| match k {
                            Key::Tag(t) => (*t as i64, n),
                            _ => unreachable!("one kind of key per column"),
                        });
                        self.emit_switch(st, t, cases.collect(), default, &env);
                    }
                    Key::Int(_) => {
                        let cases = cases.iter().map(|(k, n)| match k {
                            Key::Int(i) => (*i, n),
                            _ => unreachable!("one kind of key per column"),
                        });
                        self.emit_switch(st, v, cases.collect(), default, &env);
                    }
                    Key::Bool(_) | Key::Nil | Key::Cons => {
                        // Two outcomes: one Branch on the value (a Bool) or
                        // on the list being empty or not, in the order of
                        // the first arm's.
                        let (yes, no, cond) = match &cases[0].0 {
                            Key::Bool(_) => (Key::Bool(true), Key::Bool(false), v),
                            Key::Nil => {
                                let c = vec![v, Operand::Const(0)];
                                let c = self.temp(Rvalue::Prim(PrimOp::IntEq, c));
                                (Key::Nil, Key::Cons, c)
                            }
                            _ => {
                                let c = vec![v, Operand::Const(0)];
                                let c = self.temp(Rvalue::Prim(PrimOp::IntNe, c));
                                (Key::Cons, Key::Nil, c)
                            }
                        };
                        let pick = |k: &Key| cases.iter().find(|c| c.0 == *k).map(|c| &c.1);
                        let (then, else_) = (
                            pick(&yes).or(default).expect("a case or a default"),
                            pick(&no).or(default).expect("a case or a default"),
                        );
                        let then = self.node_block(st, then, &env);
                        let else_ = self.node_block(st, else_, &env);
                        self.terminate(Terminator::Branch { cond, then, else_ });
                    }
                    Key::Float(_) => {
                        let otherwise = self.node_block(st, default.expect("floats"), &env);
                        let tests = cases
                            .iter()
                            .map(|(k, n)| {
                                let Key::Float(x) = k else {
                                    unreachable!("one kind of key per column")
                                };
                                (
                                    Rvalue::Prim(
                                        PrimOp::FloatEq,
                                        vec![v.clone(), Operand::Float(f64::from_bits(*x))],
                                    ),
                                    n,
                                )
                            })
                            .collect();
                        self.emit_chain(st, tests, otherwise, &env);
                    }
                    Key::Str(_) => self.emit_strings(st, v, cases, default, &env),
                }
            }
        }
    }

    /// A block that runs `node` (the shared panic block for `Fail`); the
    /// current block stays current.
    fn node_block(&mut self, st: &mut Emit, node: &Node, env: &Env) -> BlockId {
        match node {
            Node::Fail => {
                if let Some(b) = st.fail {
                    return b;
                }
            }
            // An arm with nothing to bind or check: its body block itself.
            Node::Leaf {
                arm,
                binds,
                guard_fail: None,
            } if binds.is_empty() && st.tree.leaves[*arm] > 1 => {
                return shared_body(st, *arm, self);
            }
            _ => {}
        }
        let saved = self.cur;
        let b = self.new_block();
        self.switch_to(b);
        self.emit_node(st, node, env.clone());
        if let Node::Fail = node {
            st.fail = Some(b);
        }
        self.switch_to(saved);
        b
    }

    /// A multi-way test of an integer word: a `Switch`, or a `Branch` when
    /// there is one case and a default.
    fn emit_switch(
        &mut self,
        st: &mut Emit,
        value: Operand,
        cases: Vec<(i64, &Node)>,
        default: Option<&Node>,
        env: &Env,
    ) {
        let default = default.expect("tags and Ints always have a default");
        if let [(k, node)] = cases[..] {
            let c = self.temp(Rvalue::Prim(PrimOp::IntEq, vec![value, Operand::Const(k)]));
            let then = self.node_block(st, node, env);
            let else_ = self.node_block(st, default, env);
            self.terminate(Terminator::Branch {
                cond: c,
                then,
                else_,
            });
            return;
        }
        let targets = cases
            .into_iter()
            .map(|(k, n)| (k, self.node_block(st, n, env)))
            .collect();
        let default = self.node_block(st, default, env);
        self.terminate(Terminator::Switch {
            value,
            cases: targets,
            default,
        });
    }

    /// Tests in order from the current block: the first whose condition
    /// holds runs its node; `otherwise` when none does.
    fn emit_chain(
        &mut self,
        st: &mut Emit,
        tests: Vec<(Rvalue, &Node)>,
        otherwise: BlockId,
        env: &Env,
    ) {
        let n = tests.len();
        for (i, (cond, node)) in tests.into_iter().enumerate() {
            let c = self.temp(cond);
            let then = self.node_block(st, node, env);
            let else_ = if i + 1 == n {
                otherwise
            } else {
                self.new_block()
            };
            self.terminate(Terminator::Branch {
                cond: c,
                then,
                else_,
            });
            self.switch_to(else_);
        }
    }

    /// String literals: one switch on the byte length, then a comparison
    /// with each literal of that length, in arm order.
    fn emit_strings(
        &mut self,
        st: &mut Emit,
        v: Operand,
        cases: &[(Key, Node)],
        default: Option<&Node>,
        env: &Env,
    ) {
        let otherwise = self.node_block(st, default.expect("strings"), env);
        let mut groups: Vec<(i64, Vec<(&str, &Node)>)> = Vec::new();
        for (k, n) in cases {
            let Key::Str(s) = k else {
                unreachable!("one kind of key per column")
            };
            let len = s.len() as i64;
            match groups.iter_mut().find(|g| g.0 == len) {
                Some(g) => g.1.push((s, n)),
                None => groups.push((len, vec![(s, n)])),
            }
        }
        let len = self.temp(Rvalue::StrLen(v.clone()));
        let single = match groups[..] {
            [(n, _)] => Some(self.temp(Rvalue::Prim(
                PrimOp::IntEq,
                vec![len.clone(), Operand::Const(n)],
            ))),
            _ => None,
        };
        let mut targets = Vec::with_capacity(groups.len());
        let here = self.cur;
        for (n, lits) in &groups {
            let b = self.new_block();
            self.switch_to(b);
            let tests = lits
                .iter()
                .map(|(s, node)| {
                    self.cx.use_extern(rt::STRING_EQ, 2);
                    let eq = Rvalue::CallExtern {
                        symbol: rt::STRING_EQ.to_string(),
                        args: vec![v.clone(), Operand::Str(s.to_string())],
                    };
                    (eq, *node)
                })
                .collect();
            self.emit_chain(st, tests, otherwise, env);
            targets.push((*n, b));
        }
        self.switch_to(here);
        match (single, &targets[..]) {
            (Some(cond), [(_, b)]) => self.terminate(Terminator::Branch {
                cond,
                then: *b,
                else_: otherwise,
            }),
            _ => self.terminate(Terminator::Switch {
                value: len,
                cases: targets,
                default: otherwise,
            }),
        }
    }

    /// Arm `arm` matched: make its bindings, check its guard, run its body.
    fn emit_leaf(
        &mut self,
        st: &mut Emit,
        arm: usize,
        binds: &[(LocalId, Occ)],
        guard_fail: Option<&Node>,
        mut env: Env,
    ) {
        let shared = st.tree.leaves[arm] > 1;
        let first_visit = st.shared[arm].is_none();
        for (l, occ) in binds {
            let v = self.occ_value(st.tree, *occ, &mut env);
            if shared {
                // The body is lowered once: its locals are variables of their
                // own, assigned by every leaf.
                let var = if first_visit {
                    self.bind_local(*l)
                } else {
                    match self.local(*l) {
                        Operand::Var(var) => var,
                        _ => self.bind_local(*l),
                    }
                };
                self.assign(var, Rvalue::Use(v));
            } else if *occ == ROOT {
                // The scrutinee may be a source local: copy it.
                let var = self.bind_local(*l);
                self.assign(var, Rvalue::Use(v));
            } else {
                self.bind_local_to(*l, v);
            }
        }
        let guard = match (&st.arms[arm].guard, guard_fail) {
            (Some(guard), Some(fail)) => Some((guard, fail)),
            _ => None,
        };
        if !shared && guard.is_none() {
            self.lower_into(&st.arms[arm].body, st.dest);
            return;
        }
        let body = match st.shared[arm] {
            Some(b) => b,
            None if shared => shared_body(st, arm, self),
            None => {
                let saved = self.cur;
                let b = self.new_block();
                self.switch_to(b);
                self.lower_into(&st.arms[arm].body, st.dest);
                self.switch_to(saved);
                b
            }
        };
        match guard {
            Some((guard, fail)) => {
                let g = self.lower_expr(guard);
                let else_ = self.node_block(st, fail, &env);
                self.terminate(Terminator::Branch {
                    cond: g,
                    then: body,
                    else_,
                });
            }
            None => self.terminate(Terminator::Jump(body)),
        }
    }

    /// The value of `occ` on this path, loaded (with its parents) into the
    /// current block if this path has not loaded it yet.
    fn occ_value(&mut self, tree: &Tree, occ: Occ, env: &mut Env) -> Operand {
        if let Some(v) = &env[occ] {
            return v.clone();
        }
        let (parent, access) = tree.occs[occ].expect("the scrutinee is always in the env");
        let p = self.occ_value(tree, parent, env);
        let v = self.temp(match access {
            Access::Field(i) => Rvalue::GetField(p, i),
            Access::Record(i) => Rvalue::RecordField(p, i),
            Access::Head => Rvalue::ListHead(p),
            Access::Tail => Rvalue::ListTail(p),
        });
        env[occ] = Some(v.clone());
        v
    }
}
