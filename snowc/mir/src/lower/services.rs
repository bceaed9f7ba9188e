//! Service operations: calls of the runtime's service functions
//! (snow-rt `rt/service.rs`, docs/ABI.md "Services") with the
//! functions it runs (an entry per `init` and handler, taking the
//! arguments as one record) and the type descriptors of the values it
//! copies between heaps.

use snowc_types::lang::{self, rt};
use snowc_types::tast::{ServiceOp, Ty};

use super::FnLower;
use crate::mir::{Function, Operand, Rvalue, Terminator};

impl FnLower<'_, '_> {
    /// The call of a service operation with its evaluated arguments (the
    /// handle first, for a handler's operation).
    pub(crate) fn service_op(
        &mut self,
        s: usize,
        op: &ServiceOp,
        mut args: Vec<Operand>,
    ) -> Rvalue {
        let svc = &self.cx.services[s];
        match op {
            ServiceOp::Start => {
                let params = svc.init_params.clone();
                let state = svc.state.clone();
                let init = svc.init.clone();
                let name = svc.name.clone();
                let entry = self.service_entry(&init, params.len(), false);
                let (td_args, record) = self.args_record(&params, args);
                let td_state = self.type_desc(&state);
                let words = vec![
                    Operand::FnRef(entry),
                    td_args,
                    record,
                    td_state,
                    Operand::Str(name),
                ];
                self.cx.use_extern(rt::SERVICE_START, 5);
                Rvalue::CallExtern {
                    symbol: rt::SERVICE_START.into(),
                    args: words,
                }
            }
            ServiceOp::Handler(j) => {
                let h = &svc.handlers[*j];
                let (params, reply, fun, call) =
                    (h.params.clone(), h.reply.clone(), h.fun.clone(), h.call);
                let handle = if args.is_empty() {
                    Operand::Const(0)
                } else {
                    args.remove(0)
                };
                let entry = self.service_entry(&fun, params.len(), true);
                let (td_args, record) = self.args_record(&params, args);
                if call {
                    let td_reply = self.type_desc(&reply);
                    self.cx.use_extern(rt::SERVICE_CALL, 5);
                    Rvalue::CallExtern {
                        symbol: rt::SERVICE_CALL.into(),
                        args: vec![handle, Operand::FnRef(entry), td_args, record, td_reply],
                    }
                } else {
                    self.cx.use_extern(rt::SERVICE_CAST, 4);
                    Rvalue::CallExtern {
                        symbol: rt::SERVICE_CAST.into(),
                        args: vec![handle, Operand::FnRef(entry), td_args, record],
                    }
                }
            }
        }
    }

    /// The arguments as one record (`0` when there are none) and its descriptor.
    fn args_record(&mut self, params: &[Ty], args: Vec<Operand>) -> (Operand, Operand) {
        if params.is_empty() {
            return (Operand::Const(lang::td::UNIT), Operand::Const(0));
        }
        let td = self.type_desc(&lang::tuple(params.to_vec()));
        let rec = self.temp(Rvalue::MakeRecord(args));
        (td, rec)
    }

    /// The function the runtime calls for `fun` (`init` or a handler):
    /// `fun$entry(args)` or `fun$entry(state, args)`, which takes the
    /// arguments out of their record and calls `fun`.
    fn service_entry(&mut self, fun: &str, n: usize, with_state: bool) -> String {
        let name = format!("{fun}$entry");
        if self.cx.wrappers.contains_key(&name) {
            return name;
        }
        let mut f = FnLower::new(&mut *self.cx, name.clone(), false);
        let mut call_args = Vec::new();
        if with_state {
            call_args.push(Operand::Var(f.add_param(None, "state".into())));
        }
        let rec = Operand::Var(f.add_param(None, "args".into()));
        for i in 0..n {
            call_args.push(f.temp(Rvalue::RecordField(rec.clone(), i as u32)));
        }
        f.emit(crate::mir::Stmt::Check {
            file: None,
            line: 0,
            col: 0,
        });
        f.terminate(Terminator::TailCall(Rvalue::Call {
            func: fun.to_string(),
            args: call_args,
        }));
        let func: Function = f.finish();
        self.cx.wrappers.insert(name.clone(), func);
        name
    }
}
