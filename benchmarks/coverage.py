"""How much of PyTorch's public API gradkit has, by group, introspected from the installed torch.

    python benchmarks/coverage.py              # the table (Markdown), as in the README
    python benchmarks/coverage.py --missing    # and the names still missing, by group

Groups: ``torch.*`` functions, ``Tensor`` methods and properties, ``nn`` layers (Module
classes) and ``nn.functional`` functions. A name counts as covered when gradkit has the same
name in the same place (``gk.*``, ``gk.Tensor``, ``gk.nn``, ``gk.nn.functional``). Names
outside gradkit's scope on purpose (the ``out of scope`` column: CUDA and devices, sparse,
quantized, complex, FFT, named tensors, storage and memory management, distributions,
compilation and tracing, and torch's in-place ``torch.xxx_`` twins of Tensor methods) are
counted apart, and the share is of the rest.
"""

import argparse
import inspect
import re

import torch

import gradkit as gk

OUT_OF_SCOPE = re.compile("|".join([
    r"cuda", r"cudnn", r"mkldnn", r"mps", r"xpu", r"hpu", r"ipu", r"vulkan", r"metal", r"mtia",
    r"pin_memory", r"is_pinned", r"share_memory", r"storage", r"untyped", r"data_ptr",
    r"sparse", r"_coo", r"csr", r"csc", r"bsr", r"bsc", r"to_dense", r"coalesce", r"indices$",
    r"quantiz", r"^q_", r"dequantize", r"int_repr", r"fbgemm", r"qscheme", r"per_channel",
    r"complex", r"conj", r"real$", r"imag$", r"angle", r"polar", r"view_as_real", r"resolve_",
    r"fft", r"stft", r"window$", r"names?$", r"refine_names", r"align_", r"rename",
    r"nested", r"vmap", r"compile", r"jit", r"trace", r"script", r"fx", r"export", r"_C",
    r"backward_hook", r"^is_inference", r"inference_mode", r"^dsplit", r"is_shared",
    r"_copy$", r"^set_", r"^get_", r"deterministic", r"flush_denormal", r"num_interop",
    r"^sym_", r"^is_(meta|mkldnn|quantized|sparse|nested|cuda|xpu|ipu|vulkan|mps)",
    r"ndtri|polygamma|digamma|lgamma|mvlgamma|igamma|i0|erfc|special|bessel",
    r"^from_dlpack|^to_dlpack|__dlpack", r"^chalf|^cfloat|^cdouble|bfloat16|^new_",
    r"^random_|^cauchy_|^exponential_|^geometric_|^log_normal_|^bernoulli",
    r"^lu|^cholesky|^qr$|^svd|^eig|^slogdet|^det$|^logdet|^inverse|^pinverse|^lstsq|"
    r"^triangular_solve|^ormqr|^geqrf|^orgqr|^matrix_exp|^matrix_power|^linalg_",
]))


def public(names):
    return sorted(n for n in names if not n.startswith("_"))


def groups():
    """(group, torch names, does gradkit have it) for the four groups."""
    functions = [n for n in public(dir(torch)) if callable(getattr(torch, n))
                 and not inspect.isclass(getattr(torch, n))]
    functions = [n for n in functions if not (n.endswith("_") and hasattr(torch.Tensor, n))]
    methods = public(dir(torch.Tensor))
    layers = [n for n in public(dir(torch.nn)) if inspect.isclass(getattr(torch.nn, n))
              and issubclass(getattr(torch.nn, n), torch.nn.Module)
              and n not in ("Module", "Container")]
    functional = [n for n in public(dir(torch.nn.functional))
                  if inspect.isfunction(getattr(torch.nn.functional, n))]
    return [("torch.*", functions, lambda n: hasattr(gk, n)),
            ("Tensor", methods, lambda n: hasattr(gk.Tensor, n)),
            ("nn layers", layers, lambda n: hasattr(gk.nn, n)),
            ("nn.functional", functional, lambda n: hasattr(gk.nn.functional, n))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--missing", action="store_true", help="list the missing names")
    args = parser.parse_args()
    print(f"PyTorch {torch.__version__}, gradkit {gk.__version__}\n")
    print("| group | torch names | out of scope | in scope | gradkit has | share |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    missing = {}
    for name, names, has in groups():
        scoped = [n for n in names if not OUT_OF_SCOPE.search(n)]
        covered = [n for n in scoped if has(n)]
        missing[name] = [n for n in scoped if not has(n)]
        print(f"| {name} | {len(names)} | {len(names) - len(scoped)} | {len(scoped)} | "
              f"{len(covered)} | {len(covered) / len(scoped):.0%} |")
    if args.missing:
        for name, names in missing.items():
            print(f"\n{name} missing ({len(names)}): {', '.join(names)}")


if __name__ == "__main__":
    main()
