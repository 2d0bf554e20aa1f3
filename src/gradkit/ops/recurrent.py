"""The recurrences of RNN, GRU and LSTM: one Function runs one layer in one direction over the
whole sequence, with backpropagation through time written out in its backward.

The input part of every gate at every step, gx = x W_ihᵀ + b_ih, does not depend on the hidden
state, so the layer computes it for all T steps as one GEMM (the Linear op) before calling
these Functions, as cuDNN does. What is left is inherently sequential: per step one (B, H) ×
(H, G) product with W_hh and a few elementwise ops. Backward walks the steps in reverse,
keeping dhₜ and dcₜ; the gradients of the gates' pre-activations (dAₜ) are kept for every
step, so dW_hh = Σₜ dAₜᵀ hₜ₋₁ and db_hh = Σₜ dAₜ are one GEMM and one sum at the end, and
d(gx) = dA goes back to the Linear op, which turns it into dx, dW_ih and db_ih.

Shapes (time-major): gx (T, B, G); h0, c0 (B, H) or None (zeros); w_hh (G, H); b_hh (G,) or
None; G = H (RNN), 3H (GRU: r, z, n), 4H (LSTM: i, f, g, o), PyTorch's gate order. Outputs
are in time order; ``reverse=True`` runs the steps from t = T−1 down to 0 (the second
direction of a bidirectional layer). σ(a) is computed as (1 + tanh(a/2))/2: no overflow for
large |a| and one transcendental per element.

    out = RNNRecurrence.apply(gx, h0, w_hh, b_hh, nonlinearity="tanh", reverse=False)  # (T, B, H)
"""

import numpy as np

from gradkit.autograd.function import Function


def _time_order(a, reverse):
    return a[::-1] if reverse else a


def _first_state(h0, shape, dtype):
    return np.zeros(shape, dtype) if h0 is None else h0


def _sigmoid_(a):
    """a ← σ(a) = (1 + tanh(a/2))/2, in place."""
    a *= 0.5
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def _hidden_weight_grads(fn, dA, h_prev):
    """dW_hh = Σₜ dAₜᵀ hₜ₋₁ and db_hh = Σₜ dAₜ over every step and batch row at once."""
    need_w, need_b = fn.needs_input_grad[-2:]
    G, H = dA.shape[-1], h_prev.shape[-1]
    dA2 = dA.reshape(-1, G)
    dw = np.matmul(dA2.T, h_prev.reshape(-1, H)) if need_w else None
    db = dA2.sum(axis=0) if need_b else None
    return dw, db


class RNNRecurrence(Function):
    """Elman RNN: hₜ = φ(aₜ),  aₜ = gxₜ + W_hh hₜ₋₁ + b_hh,  φ = tanh or relu.

    Backward, for t = T … 1, with dhₜ = gₜ + W_hhᵀ daₜ₊₁ (gₜ: gradient of output t):
        daₜ = dhₜ ⊙ φ'(aₜ),  φ' = 1 − hₜ² (tanh) or [hₜ > 0] (relu)
        d(gx)ₜ = daₜ,  dh₀ = W_hhᵀ da₁,  dW_hh = Σ daₜ hₜ₋₁ᵀ,  db_hh = Σ daₜ
    Output: (T, B, H), the hidden state of every step (h_n is its last step)."""

    def forward(self, gx, h0, w_hh, b_hh, nonlinearity="tanh", reverse=False):
        T, B, H = gx.shape
        gx = _time_order(gx, reverse)
        if b_hh is not None:
            gx = gx + b_hh
        hs = np.empty((T + 1, B, H), gx.dtype)
        hs[0] = _first_state(h0, (B, H), gx.dtype)
        w_t = w_hh.T
        for s in range(T):
            a = np.matmul(hs[s], w_t, out=hs[s + 1])
            a += gx[s]
            if nonlinearity == "tanh":
                np.tanh(a, out=a)
            else:
                np.maximum(a, 0, out=a)
        self.hs, self.w_hh, self.relu, self.reverse = hs, w_hh, nonlinearity == "relu", reverse
        return np.ascontiguousarray(_time_order(hs[1:], reverse))

    def backward(self, g):
        hs, w_hh = self.hs, self.w_hh
        T = hs.shape[0] - 1
        g = _time_order(g, self.reverse)
        dA = (hs[1:] > 0).astype(hs.dtype) if self.relu else 1.0 - hs[1:] * hs[1:]
        dh = np.zeros_like(hs[0])
        for s in range(T - 1, -1, -1):
            dh += g[s]
            dA[s] *= dh
            dh = np.matmul(dA[s], w_hh)
        dw, db = _hidden_weight_grads(self, dA, hs[:T])
        return _time_order(dA, self.reverse), dh, dw, db


class GRURecurrence(Function):
    """GRU (PyTorch's form, gates r, z, n), with gh = W_hh hₜ₋₁ + b_hh split as (gh_r, gh_z, gh_n):

        r = σ(gx_r + gh_r),  z = σ(gx_z + gh_z),  n = tanh(gx_n + r ⊙ gh_n)
        hₜ = (1 − z) ⊙ n + z ⊙ hₜ₋₁

    Backward, with dh the full gradient of hₜ:
        dn_a = dh ⊙ (1 − z) ⊙ (1 − n²),   dz_a = dh ⊙ (hₜ₋₁ − n) ⊙ z(1 − z),
        dr_a = dn_a ⊙ gh_n ⊙ r(1 − r)
        d(gx)ₜ = (dr_a, dz_a, dn_a),   d(gh)ₜ = (dr_a, dz_a, dn_a ⊙ r)
        dhₜ₋₁ = dh ⊙ z + W_hhᵀ d(gh)ₜ,  dW_hh = Σ d(gh)ₜ hₜ₋₁ᵀ,  db_hh = Σ d(gh)ₜ
    Output: (T, B, H), the hidden state of every step."""

    def forward(self, gx, h0, w_hh, b_hh, reverse=False):
        T, B, G = gx.shape
        H = G // 3
        gx = _time_order(gx, reverse)
        dtype = gx.dtype
        hs = np.empty((T + 1, B, H), dtype)
        hs[0] = _first_state(h0, (B, H), dtype)
        rz, ns, ghn = (np.empty((T, B, 2 * H), dtype), np.empty((T, B, H), dtype),
                       np.empty((T, B, H), dtype))
        w_t = w_hh.T
        for s in range(T):
            gh = np.matmul(hs[s], w_t)
            if b_hh is not None:
                gh += b_hh
            a = np.add(gx[s, :, :2 * H], gh[:, :2 * H], out=rz[s])
            _sigmoid_(a)
            ghn[s] = gh[:, 2 * H:]
            n = np.multiply(a[:, :H], ghn[s], out=ns[s])
            n += gx[s, :, 2 * H:]
            np.tanh(n, out=n)
            h = np.subtract(hs[s], n, out=hs[s + 1])
            h *= a[:, H:]
            h += n
        self.hs, self.rz, self.ns, self.ghn = hs, rz, ns, ghn
        self.w_hh, self.reverse = w_hh, reverse
        return np.ascontiguousarray(_time_order(hs[1:], reverse))

    def backward(self, g):
        hs, rz, ns, w_hh = self.hs, self.rz, self.ns, self.w_hh
        T, B, H = ns.shape
        g = _time_order(g, self.reverse)
        r, z = rz[..., :H], rz[..., H:]
        to_n = (1.0 - z) * (1.0 - ns * ns)           # dn_a = dh ⊙ to_n
        to_z = (hs[:T] - ns) * z * (1.0 - z)          # dz_a = dh ⊙ to_z
        to_r = self.ghn * r * (1.0 - r)               # dr_a = dn_a ⊙ to_r
        dgx = np.empty((T, B, 3 * H), hs.dtype)
        dgh = np.empty((T, B, 3 * H), hs.dtype)
        dh = np.zeros_like(hs[0])
        for s in range(T - 1, -1, -1):
            dh += g[s]
            dn = np.multiply(dh, to_n[s], out=dgx[s, :, 2 * H:])
            np.multiply(dh, to_z[s], out=dgh[s, :, H:2 * H])
            np.multiply(dn, to_r[s], out=dgh[s, :, :H])
            np.multiply(dn, r[s], out=dgh[s, :, 2 * H:])
            back = np.matmul(dgh[s], w_hh)
            dh *= z[s]
            back += dh
            dh = back
        dgx[..., :2 * H] = dgh[..., :2 * H]
        dw, db = _hidden_weight_grads(self, dgh, hs[:T])
        return _time_order(dgx, self.reverse), dh, dw, db


class LSTMRecurrence(Function):
    """LSTM (PyTorch's gate order i, f, g, o), with a = gxₜ + W_hh hₜ₋₁ + b_hh split in four:

        i = σ(a_i),  f = σ(a_f),  g = tanh(a_g),  o = σ(a_o)
        cₜ = f ⊙ cₜ₋₁ + i ⊙ g,   hₜ = o ⊙ tanh(cₜ)

    Backward, with dh, dc the full gradients of hₜ, cₜ (dc += dh ⊙ o ⊙ (1 − tanh²cₜ) first):
        da_i = dc ⊙ g ⊙ i(1 − i),  da_f = dc ⊙ cₜ₋₁ ⊙ f(1 − f),  da_g = dc ⊙ i ⊙ (1 − g²),
        da_o = dh ⊙ tanh(cₜ) ⊙ o(1 − o)
        d(gx)ₜ = daₜ,  dhₜ₋₁ = W_hhᵀ daₜ,  dcₜ₋₁ = dc ⊙ f,  dW_hh = Σ daₜ hₜ₋₁ᵀ,  db_hh = Σ daₜ
    Output: (T + 1, B, H), the hidden state of every step, then c_T as row T (one Function
    has one output; the layer slices h and c_n out of it)."""

    def forward(self, gx, h0, c0, w_hh, b_hh, reverse=False):
        T, B, G = gx.shape
        H = G // 4
        gx = _time_order(gx, reverse)
        if b_hh is not None:
            gx = gx + b_hh
        dtype = gx.dtype
        hs, cs = np.empty((T + 1, B, H), dtype), np.empty((T + 1, B, H), dtype)
        hs[0] = _first_state(h0, (B, H), dtype)
        cs[0] = _first_state(c0, (B, H), dtype)
        acts, tcs = np.empty((T, B, G), dtype), np.empty((T, B, H), dtype)
        scale = np.full(G, 0.5, dtype)  # σ(a) = ½ tanh(a/2) + ½ on i, f, o; tanh(a) on g
        scale[2 * H:3 * H] = 1.0
        shift = 1.0 - scale
        w_t = w_hh.T
        for s in range(T):
            a = np.matmul(hs[s], w_t, out=acts[s])
            a += gx[s]
            a *= scale
            np.tanh(a, out=a)
            a *= scale
            a += shift
            c = np.multiply(a[:, H:2 * H], cs[s], out=cs[s + 1])
            c += a[:, :H] * a[:, 2 * H:3 * H]
            np.tanh(c, out=tcs[s])
            np.multiply(a[:, 3 * H:], tcs[s], out=hs[s + 1])
        self.hs, self.cs, self.acts, self.tcs = hs, cs, acts, tcs
        self.w_hh, self.reverse = w_hh, reverse
        out = np.empty((T + 1, B, H), dtype)
        out[:T] = _time_order(hs[1:], reverse)
        out[T] = cs[T]
        return out

    def backward(self, g):
        hs, cs, tcs, w_hh = self.hs, self.cs, self.tcs, self.w_hh
        T, B, H = tcs.shape
        acts = self.acts.reshape(T, B, 4, H)
        i, f, gg, o = acts[:, :, 0], acts[:, :, 1], acts[:, :, 2], acts[:, :, 3]
        coef = acts * (1.0 - acts)                    # σ' of i, f, o (slot g replaced below)
        coef[:, :, 0] *= gg                            # da_i = dc ⊙ coef_i
        coef[:, :, 1] *= cs[:T]                        # da_f = dc ⊙ coef_f
        coef[:, :, 2] = i * (1.0 - gg * gg)            # da_g = dc ⊙ coef_g
        coef[:, :, 3] *= tcs                           # da_o = dh ⊙ coef_o
        to_c = o * (1.0 - tcs * tcs)                   # dc += dh ⊙ to_c
        g_out = _time_order(g[:T], self.reverse)
        dA = np.empty((T, B, 4, H), hs.dtype)
        dh = np.zeros_like(hs[0])
        dc = g[T].copy()
        for s in range(T - 1, -1, -1):
            dh += g_out[s]
            dc += dh * to_c[s]
            np.multiply(coef[s, :, :3], dc[:, None], out=dA[s, :, :3])
            np.multiply(coef[s, :, 3], dh, out=dA[s, :, 3])
            dc *= f[s]
            dh = np.matmul(dA[s].reshape(B, 4 * H), w_hh)
        dA = dA.reshape(T, B, 4 * H)
        dw, db = _hidden_weight_grads(self, dA, hs[:T])
        return _time_order(dA, self.reverse), dh, dc, dw, db
