"""OneCycleLR and MomentumScheduler: the schedules that also drive the momentum.

Both write ``group['momentum']`` (SGD, RMSprop) or ``group['betas'][0]`` (Adam, AdamW, whose
β₁ plays the role of momentum), whichever the optimizer's defaults have.
Import them from ``gradkit.optim.lr_scheduler``.
"""

import math

from gradkit.optim.lr_scheduler import LRScheduler, _check_optimizer, _format_param, _lrs


def _momentum_key(optimizer, who):
    """'betas' for Adam-like optimizers (β₁ is the momentum), else 'momentum'."""
    if "betas" in optimizer.defaults:
        return "betas"
    if "momentum" in optimizer.defaults:
        return "momentum"
    raise ValueError(f"{who}: optimizer must support momentum or beta1 "
                     f"({type(optimizer).__name__} has neither)")


def _set_momentum(group, key, value):
    if key == "betas":
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


def _phase(end_step, start_lr, end_lr, start_momentum, end_momentum):
    """One phase of OneCycleLR: its last step and the group keys it anneals between."""
    return dict(end_step=end_step, start_lr=start_lr, end_lr=end_lr,
                start_momentum=start_momentum, end_momentum=end_momentum)


def _anneal(strategy, start, end, pct):
    if strategy == "cos":
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
    return (end - start) * pct + start


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith, 2018), as in PyTorch: per batch, the lr rises from
    max_lr/div_factor to max_lr over the first ``pct_start`` of ``total_steps``, then anneals
    to initial_lr/final_div_factor ('cos' or 'linear'); momentum (or Adam's β₁) cycles inversely
    between max_momentum and base_momentum. ``three_phase=True`` adds a final annihilation
    phase as in the paper. Give ``total_steps`` or ``epochs`` and ``steps_per_epoch``."""

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError(f"Expected positive integer steps_per_epoch, but got "
                                 f"{steps_per_epoch}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._anneal_func_type = anneal_strategy
        up = float(pct_start * self.total_steps) - 1
        if three_phase:
            self._schedule_phases = [
                _phase(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                _phase(float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr",
                      "base_momentum", "max_momentum"),
                _phase(self.total_steps - 1, "initial_lr", "min_lr", "max_momentum",
                      "max_momentum")]
        else:
            self._schedule_phases = [
                _phase(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                _phase(self.total_steps - 1, "max_lr", "min_lr", "base_momentum",
                      "max_momentum")]
        max_lrs = _format_param("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = lr / div_factor
                group["max_lr"] = lr
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            key = _momentum_key(optimizer, "OneCycleLR with cycle_momentum")
            self.use_beta1 = key == "betas"
            max_ms = _format_param("max_momentum", optimizer, max_momentum)
            base_ms = _format_param("base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                for group, m_max, m_base in zip(optimizer.param_groups, max_ms, base_ms):
                    _set_momentum(group, key, m_max)
                    group["max_momentum"] = m_max
                    group["base_momentum"] = m_base
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(f"Tried to step {step_num} times. The specified number of total "
                             f"steps is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step_num <= end_step or i == len(self._schedule_phases) - 1:
                    pct = (step_num - start_step) / (end_step - start_step)
                    lrs.append(_anneal(self._anneal_func_type, group[phase["start_lr"]],
                                       group[phase["end_lr"]], pct))
                    if self.cycle_momentum:
                        momentum = _anneal(self._anneal_func_type,
                                           group[phase["start_momentum"]],
                                           group[phase["end_momentum"]], pct)
                        _set_momentum(group, "betas" if self.use_beta1 else "momentum",
                                      momentum)
                    break
                start_step = phase["end_step"]
        return lrs


class MomentumScheduler:
    """Anneal the momentum (SGD/RMSprop ``momentum``, Adam's β₁) from ``start_momentum`` to
    ``end_momentum`` over ``total_iters`` steps, then hold it (the notes' "0.5, annealed to
    0.99 over multiple epochs"; no PyTorch counterpart)::

        m(epoch) = start + (end − start)·min(epoch, total_iters)/total_iters     ('linear')
        m(epoch) = end + (start − end)·(1 + cos(π·min(epoch, T)/T))/2           ('cos')

    Call ``step()`` once per epoch, like an lr scheduler; it combines with any of them.
    ``start_momentum`` and ``end_momentum`` may be lists (one per param group).
    """

    def __init__(self, optimizer, start_momentum=0.5, end_momentum=0.99, total_iters=10,
                 anneal_strategy="linear", last_epoch=-1):
        _check_optimizer(optimizer)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        if total_iters <= 0:
            raise ValueError(f"MomentumScheduler: total_iters must be positive, got {total_iters}")
        self.optimizer = optimizer
        self._key = _momentum_key(optimizer, "MomentumScheduler")
        self.start_momentums = _format_param("start_momentum", optimizer, start_momentum)
        self.end_momentums = _format_param("end_momentum", optimizer, end_momentum)
        self.total_iters = total_iters
        self.anneal_strategy = anneal_strategy
        self.last_epoch = last_epoch
        self.step()

    def get_momentum(self):
        """The momentum of each group at ``self.last_epoch``."""
        pct = min(max(self.last_epoch, 0), self.total_iters) / self.total_iters
        return [_anneal(self.anneal_strategy, m0, m1, pct)
                for m0, m1 in zip(self.start_momentums, self.end_momentums)]

    def step(self):
        self.last_epoch += 1
        self._last_momentum = self.get_momentum()
        for group, momentum in zip(self.optimizer.param_groups, self._last_momentum):
            _set_momentum(group, self._key, momentum)

    def get_last_momentum(self):
        return self._last_momentum

    def get_last_lr(self):
        """The optimizer's current lrs (this scheduler leaves them alone)."""
        return _lrs(self.optimizer)

    def state_dict(self):
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
