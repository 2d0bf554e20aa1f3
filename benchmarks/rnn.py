"""Recurrent training steps, gradkit against PyTorch on the same CPU, in one process.

A step of a word-level language model as in Zaremba et al. (2014) and d2l's RNN chapters:
tokens (batch 20, sequence 35) -> embedding (vocabulary 10,000, width 256) -> 2-layer LSTM or
GRU with 256 hidden units -> Linear decoder to 10,000 logits -> cross-entropy; backward,
gradient clipping at norm 0.25 and an SGD step. The hidden state is carried from one batch to
the next and detached (truncated backpropagation through time). The embedding is a plain
weight matrix indexed by the tokens, identically in both frameworks (a gather forward, a
scatter-add backward). Float32; the frameworks' steps alternate, the first are warm-up, the
median of the rest is printed with the ratio gradkit / PyTorch (goal ≤ 1.5):

    python benchmarks/rnn.py                         # lm-lstm, lm-gru, lstm, gru
    python benchmarks/rnn.py --threads 1 --cpu-time  # steadier on a busy machine
    python benchmarks/rnn.py --profile lm-lstm       # where gradkit's time goes (cProfile)

The rows "lstm" and "gru" time the recurrent layer alone (forward and backward of its output
summed with fixed random weights), to separate it from the decoder and the softmax, which in
the LM step are a (700 × 256) × (256 × 10,000) GEMM three times and a softmax over 7 million
logits. Both frameworks start from the same weights and see the same batch; the first step's
losses are checked to agree.

Measured (2-core VM shared with other work, --threads 1 --cpu-time, median of 7): lm-lstm
233 ms vs 280 ms (0.83), lm-gru 223 vs 269 (0.83), lstm layer 78 vs 54 (1.43), gru layer
65 vs 76 (0.86). Where gradkit's LM-LSTM step goes (--profile): 63% in the Linear GEMMs
(the decoder's three 1.8-GFLOP products dominate; the input projections gx = x W_ihᵀ are
the rest), 25% in the recurrences (per layer: 14 ms forward, 14 ms backward with dW_hh), 8%
in softmax-cross-entropy, and under 2% in Python and the autograd engine (about 1,200 Python
calls a step). Inside the recurrences the time is the per-step (20 × 256) · (256 × 1024)
GEMM, which OpenBLAS runs at ~35 GFLOP/s against ~80 GFLOP/s for the large input-projection
GEMM; that small-matrix GEMM is why the LSTM layer alone is 1.4× PyTorch, while the
elementwise gate math is about a fifth of the recurrences' time.
"""

import argparse
import cProfile
import os
import pstats
import time

import numpy as np
import torch

import gradkit as gk
import gradkit.nn.functional as gF
from gradkit import nn as gnn
from gradkit import optim as goptim
from gradkit.nn import rnn as grnn
from train_step import alternate  # benchmarks/ is the script's folder, on sys.path

FRAMEWORKS = {"gradkit": (gk, gnn, gF, goptim, grnn), "torch": (torch, torch.nn,
                                                               torch.nn.functional, torch.optim,
                                                               torch.nn)}
VOCAB, WIDTH, HIDDEN, LAYERS, SEQ, BATCH = 10_000, 256, 256, 2, 35, 20


def language_model(lib, nn, rnn, cell):
    class LanguageModel(nn.Module):
        """tokens (L, N) -> logits (L·N, VOCAB); the state goes in and comes out."""

        def __init__(self):
            super().__init__()
            self.embedding = nn.Parameter(lib.zeros(VOCAB, WIDTH))
            self.rnn = getattr(rnn, cell)(WIDTH, HIDDEN, num_layers=LAYERS)
            self.decoder = nn.Linear(HIDDEN, VOCAB)

        def forward(self, tokens, state):
            output, state = self.rnn(self.embedding[tokens], state)
            return self.decoder(output.reshape(-1, HIDDEN)), state

    return LanguageModel()


def detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def setup(name, framework, seed=0):
    """A step function for one benchmark in one framework, with torch's initial weights."""
    lib, nn, F, optim, rnn = FRAMEWORKS[framework]
    cell = "LSTM" if name.endswith("lstm") else "GRU"
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    if name.startswith("lm-"):
        reference = language_model(torch, torch.nn, torch.nn, cell)
        torch.nn.init.normal_(reference.embedding, std=0.1)
        model = language_model(lib, nn, rnn, cell)
    else:
        reference = getattr(torch.nn, cell)(WIDTH, HIDDEN, num_layers=LAYERS)
        model = getattr(rnn, cell)(WIDTH, HIDDEN, num_layers=LAYERS)
    model.load_state_dict({k: v.detach().numpy().copy() if framework == "gradkit" else v
                           for k, v in reference.state_dict().items()})
    zeros = lib.zeros(LAYERS, BATCH, HIDDEN)
    state = [(zeros, zeros) if cell == "LSTM" else zeros]
    if not name.startswith("lm-"):
        x = lib.tensor(rng.standard_normal((SEQ, BATCH, WIDTH)).astype(np.float32),
                       requires_grad=True)
        weight = lib.tensor(rng.standard_normal((SEQ, BATCH, HIDDEN)).astype(np.float32))

        def layer_step():
            output, _ = model(x, state[0])
            loss = (output * weight).sum()
            loss.backward()
            return loss

        return layer_step
    tokens = lib.tensor(rng.integers(0, VOCAB, (SEQ, BATCH)))
    targets = lib.tensor(rng.integers(0, VOCAB, SEQ * BATCH))
    opt = optim.SGD(model.parameters(), lr=1.0)
    clip = gnn.utils.clip_grad_norm_ if framework == "gradkit" else torch.nn.utils.clip_grad_norm_

    def lm_step():
        opt.zero_grad()
        logits, new_state = model(tokens, state[0])
        state[0] = detach(new_state)
        loss = F.cross_entropy(logits, targets)
        loss.backward()
        clip(model.parameters(), 0.25)
        opt.step()
        return loss

    return lm_step


def time_pair(name, steps, warmup, clock=time.perf_counter):
    """Median step times (s) of gradkit and torch, steps interleaved, after checking that the
    first step gives both the same loss."""
    steps_ = {fw: setup(name, fw) for fw in FRAMEWORKS}
    losses = {fw: float(step().item()) for fw, step in steps_.items()}
    if not np.isclose(losses["gradkit"], losses["torch"], rtol=1e-4):
        raise AssertionError(f"{name}: first losses differ: {losses}")
    return alternate(steps_, steps, warmup, clock)


def profile(name, steps, top=18):
    """cProfile of gradkit's steps: the functions with the most time of their own."""
    step = setup(name, "gradkit")
    step()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        step()
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


BENCHMARKS = ["lm-lstm", "lm-gru", "lstm", "gru"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", choices=BENCHMARKS, default=BENCHMARKS)
    parser.add_argument("--steps", type=int, default=7, help="timed steps per framework")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, help="BLAS/OpenMP threads of both frameworks")
    parser.add_argument("--cpu-time", action="store_true", help="time the process's CPU time")
    parser.add_argument("--profile", choices=BENCHMARKS, help="profile gradkit's step instead")
    args = parser.parse_args()
    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
        torch.set_num_threads(args.threads)
    if args.profile:
        profile(args.profile, args.steps)
        return
    print(f"numpy {np.__version__}, torch {torch.__version__} ({torch.get_num_threads()} "
          f"threads), {os.cpu_count()} CPUs, float32, 2 layers × {HIDDEN} hidden, sequence "
          f"{SEQ}, batch {BATCH}, median of {args.steps} steps, "
          f"{'CPU' if args.cpu_time else 'wall'} time")
    print(f"{'step':8} {'gradkit ms':>11} {'torch ms':>9} {'ratio':>6}")
    for name in args.only:
        t = time_pair(name, args.steps, args.warmup,
                      time.process_time if args.cpu_time else time.perf_counter)
        print(f"{name:8} {t['gradkit'] * 1e3:11.1f} {t['torch'] * 1e3:9.1f} "
              f"{t['gradkit'] / t['torch']:6.2f}", flush=True)


if __name__ == "__main__":
    main()
