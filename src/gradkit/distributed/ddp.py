"""DistributedDataParallel: every rank trains a replica on its shard; gradients are averaged.

Order of events (PyTorch's DDP, on MPI):

1. Construction: the ranks compare their models (names, shapes and dtypes of parameters and
   buffers; the first difference is named on every rank), then rank 0's parameters and
   buffers are broadcast, so differently initialised replicas start identical. The
   parameters that require grad are laid out, in reverse registration order (the order
   backward produces their gradients), in buckets of at most ``bucket_cap_mb`` MiB of one
   dtype each; the first bucket holds at most 1 MiB, as in PyTorch, so the all-reduce of the
   last layers' gradients starts while backward is still early (a model under 25 MiB would
   otherwise have one bucket, sent only when backward ends).
2. Forward (training, grad mode on): rank 0's buffers are broadcast first
   (``broadcast_buffers``), the wrapped module runs, and the graph of the output is walked
   once (0.2 ms for ResNet-20, whose forward and backward take 225 ms): a parameter that
   took no part in it would never get a gradient, so the step is refused with the names of
   those parameters.
3. Backward: a leaf hook fires when a parameter's gradient is complete (engine.py). It
   copies ``grad + (what .grad already held)`` into its bucket; when a bucket is full, it
   and every full bucket after it start a non-blocking ``Iallreduce`` (buckets start in
   index order on every rank, as MPI requires). The last hook waits for all of them and
   writes the averages into ``.grad``: when ``loss.backward()`` returns, every ``.grad`` is
   ``(1/N)·Σ_ranks``, so gradient clipping and ``optimizer.step()`` (which needs no wrapper)
   see the averaged gradient, as in PyTorch. The hooks return zeros, so the engine's own
   accumulation leaves these averages alone.
4. ``no_sync()``: forwards inside it do not arm the hooks; the gradients accumulate locally
   in ``.grad`` and the first synchronised backward after it averages the sum.

Each bucket's all-reduce start and end times (``time.perf_counter``) of the last step are in
``ddp.timeline`` as ``(bucket, started, finished)``; MPICH progresses a request only inside
MPI calls, so every hook also tests the requests in flight.

    model = DistributedDataParallel(MLP(), bucket_cap_mb=25)
    optimizer = gk.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for x, y in loader:                     # a DistributedSampler gives each rank its shard
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()   # gradients averaged over the ranks
        optimizer.step()
"""

import contextlib
import time

import numpy as np

from gradkit.autograd import grad_mode
from gradkit.distributed import comm as _comm
from gradkit.nn.module import Module
from gradkit.tensor import Tensor


FIRST_BUCKET_MB = 1  # PyTorch's first bucket (the last layers' gradients): small, to start early


class _Bucket:
    """Gradients of a few parameters in one flat send buffer, reduced into a receive buffer."""

    def __init__(self, dtype):
        self.dtype, self.slots, self.size = dtype, [], 0
        self.send = self.recv = None
        self.pending = 0

    def add(self, slot):
        slot.start, slot.stop = self.size, self.size + slot.param._data.size
        self.size = slot.stop
        self.slots.append(slot)

    def allocate(self):
        self.send = np.empty(self.size, self.dtype)
        self.recv = np.empty(self.size, self.dtype)


class _Slot:
    """One parameter's place in a bucket."""

    def __init__(self, name, param, bucket):
        self.name, self.param, self.bucket = name, param, bucket
        self.start = self.stop = 0
        self.ready = False


def _make_buckets(named_params, cap_bytes, first_cap_bytes=None):
    """Slots in the given order, cut into buckets of at most cap_bytes (the first one at most
    first_cap_bytes) and one dtype each (a parameter larger than the cap gets a bucket of
    its own); buffers not allocated."""
    buckets = []
    slots = []
    for name, p in named_params:
        dtype = p._data.dtype
        last = buckets[-1] if buckets else None
        cap = first_cap_bytes if len(buckets) == 1 and first_cap_bytes else cap_bytes
        if (last is None or last.dtype != dtype
                or (last.size + p._data.size) * dtype.itemsize > cap and last.slots):
            last = _Bucket(dtype)
            buckets.append(last)
        slot = _Slot(name, p, len(buckets) - 1)
        last.add(slot)
        slots.append(slot)
    return buckets, slots


def _describe(module):
    """(kind, name, shape, dtype) of every parameter and buffer, in registration order."""
    items = [("parameter", n, tuple(p.shape), str(p.dtype)) for n, p in module.named_parameters()]
    items += [("buffer", n, tuple(b.shape), str(b.dtype)) for n, b in module.named_buffers()]
    return items


def _first_difference(models):
    """A sentence naming the first parameter or buffer that differs from rank 0's, or None."""
    reference = models[0]
    for rank, items in enumerate(models[1:], start=1):
        for mine, theirs in zip(reference, items):
            if mine != theirs:
                return (f"{mine[0]} '{mine[1]}' is {mine[2]} {mine[3]} on rank 0 but "
                        f"{theirs[0]} '{theirs[1]}' is {theirs[2]} {theirs[3]} on rank {rank}")
        if len(items) != len(reference):
            return (f"rank 0 has {len(reference)} parameters and buffers, rank {rank} has "
                    f"{len(items)}")
    return None


def _reached_leaves(outputs):
    """ids of the leaf tensors that the graphs of the output tensors reach."""
    seen, leaves = set(), set()
    stack = [t.grad_fn for t in outputs if t.grad_fn is not None]
    while stack:
        fn = stack.pop()
        if id(fn) in seen or fn.inputs is None:
            continue
        seen.add(id(fn))
        for t, needed in zip(fn.inputs, fn.needs_input_grad):
            if not needed:
                continue
            parents = [t.grad_fn] + [g for _, g in getattr(t, "_rebased", ())]
            if t.grad_fn is None:
                leaves.add(id(t))
            stack.extend(g for g in parents if g is not None)
    return leaves


def _output_tensors(output):
    if isinstance(output, Tensor):
        return [output]
    if isinstance(output, dict):
        output = list(output.values())
    if isinstance(output, (list, tuple)):
        return [t for item in output for t in _output_tensors(item)]
    return []


class DistributedDataParallel(Module):
    """Data-parallel wrapper of ``module`` (PyTorch's name and meaning); see the module docstring.

    ``bucket_cap_mb``: the most MiB of gradients in one all-reduce. ``broadcast_buffers``:
    copy rank 0's buffers (BatchNorm's running statistics) to every rank before each training
    forward. The state_dict keys gain the prefix ``module.``, as in PyTorch; ``ddp.module``
    is the wrapped model (and what Trainer checkpoints hold: ``checkpoint_module``). In a world of one process the wrapper only delegates."""

    def __init__(self, module, bucket_cap_mb=25, broadcast_buffers=True):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected a gradkit.nn.Module, got "
                            f"{type(module).__name__}")
        if not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be > 0, got "
                             f"{bucket_cap_mb}")
        self.module = module
        self.bucket_cap_mb, self.broadcast_buffers = bucket_cap_mb, broadcast_buffers
        world = _comm.init()
        self.world_size = world.size
        self.timeline = []
        self._sync, self._armed = True, False
        trainable = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self._buckets, self._slots = _make_buckets(trainable[::-1], bucket_cap_mb * 2**20,
                                                   min(FIRST_BUCKET_MB, bucket_cap_mb) * 2**20)
        if self.world_size == 1:
            return
        difference = _first_difference(world.allgather(_describe(module)))
        if difference is not None:
            raise ValueError(f"DistributedDataParallel: the models differ across ranks: "
                             f"{difference}; every rank must build the same model")
        self._world = world.Dup()  # the buckets' own channel: SyncBatchNorm uses COMM_WORLD
        for bucket in self._buckets:
            bucket.allocate()
        for t in list(module.parameters()) + list(module.buffers()):
            _comm.broadcast(t, src=0)
        for slot in self._slots:
            slot.param.register_hook(self._hook(slot))

    @property
    def checkpoint_module(self):
        """What a Trainer checkpoint saves and loads: the wrapped model, without ``module.``,
        so the checkpoint loads into the bare model and resumes on any number of ranks."""
        return self.module

    @property
    def bucket_count(self):
        return len(self._buckets)

    @contextlib.contextmanager
    def no_sync(self):
        """Inside: gradients accumulate locally; the next synchronised backward averages them."""
        previous, self._sync = self._sync, False
        try:
            yield
        finally:
            self._sync = previous

    def forward(self, *args, **kwargs):
        if self.world_size > 1 and self.training and self.broadcast_buffers:
            for b in self.module.buffers():
                _comm.broadcast(b, src=0)
        output = self.module(*args, **kwargs)
        if self.world_size > 1 and grad_mode.is_grad_enabled():
            tensors = [t for t in _output_tensors(output) if t.requires_grad]
            self._check_finished()
            if tensors and self._sync:
                self._arm(tensors)
        return output

    def _check_finished(self):
        """Refuse a new forward while the last step's reduction is half done; disarm."""
        if self._armed and any(s.ready for s in self._slots):
            missing = [s.name for s in self._slots[::-1] if not s.ready]
            raise RuntimeError(f"DistributedDataParallel: the previous backward did not finish "
                               f"the gradient reduction: no gradient arrived for {missing}")
        self._armed = False

    def _arm(self, outputs):
        """Check that every parameter is used, then reset the buckets for this step."""
        reached = _reached_leaves(outputs)
        unused = [s.name for s in self._slots[::-1] if id(s.param) not in reached]
        if unused:
            raise RuntimeError(
                f"DistributedDataParallel: parameters {unused} took no part in producing the "
                "output, so they would never receive a gradient and the all-reduce would wait "
                "for them forever; use them in forward, or freeze them "
                "(p.requires_grad_(False)) before wrapping the model")
        for slot, bucket in zip(self._slots, (self._buckets[s.bucket] for s in self._slots)):
            if slot.param._data.dtype != bucket.dtype:
                raise TypeError(f"DistributedDataParallel: parameter '{slot.name}' is now "
                                f"{slot.param.dtype}, its bucket {bucket.dtype}; cast the model "
                                "(.double(), .float()) before wrapping it")
            slot.ready = False
        for bucket in self._buckets:
            bucket.pending = len(bucket.slots)
        self._next, self._requests, self.timeline = 0, [], []
        self._armed = True

    def _hook(self, slot):
        def hook(grad):
            return self._grad_ready(slot, grad._data) if self._armed else None
        return hook

    def _grad_ready(self, slot, g):
        """Pack grad (+ the .grad accumulated so far) into the bucket; launch full buckets."""
        if slot.ready:
            raise RuntimeError(f"DistributedDataParallel: the gradient of '{slot.name}' arrived "
                               "twice in one step (backward ran twice after one forward)")
        p, bucket = slot.param, self._buckets[slot.bucket]
        packed = bucket.send[slot.start:slot.stop].reshape(g.shape)
        if p.grad is None:
            packed[...] = g
            p.grad = Tensor._make(np.zeros_like(g), None)
        else:
            np.add(p.grad._data, g, out=packed)
        slot.ready = True
        bucket.pending -= 1
        self._poll()
        while self._next < len(self._buckets) and self._buckets[self._next].pending == 0:
            self._launch(self._buckets[self._next])
        if self._next == len(self._buckets):
            self._finish()
        return np.broadcast_to(np.zeros((), g.dtype), g.shape)

    def _launch(self, bucket):
        MPI = _comm.mpi()
        self._requests.append(self._world.Iallreduce(bucket.send, bucket.recv, op=MPI.SUM))
        self.timeline.append([self._next, time.perf_counter(), None])
        self._next += 1

    def _poll(self):
        for request, entry in zip(self._requests, self.timeline):
            if entry[2] is None and request.Test():
                entry[2] = time.perf_counter()

    def _finish(self):
        """Wait for every bucket and write the averaged gradients into .grad."""
        for request, entry in zip(self._requests, self.timeline):
            if entry[2] is None:
                request.Wait()
                entry[2] = time.perf_counter()
        for slot in self._slots:
            recv = self._buckets[slot.bucket].recv[slot.start:slot.stop]
            np.divide(recv.reshape(slot.param.grad._data.shape), self.world_size,
                      out=slot.param.grad._data)
        self._armed = False

    def extra_repr(self):
        return f"world_size={self.world_size}, buckets={len(self._buckets)}"
