"""``gk.cuda``: the answers PyTorch's ``torch.cuda`` gives on a machine without a GPU.

gradkit runs on the CPU (see gradkit/devices.py), so code that asks before it picks a device
takes its CPU branch:

    device = gk.device("cuda" if gk.cuda.is_available() else "cpu")   # -> device(type='cpu')
"""


def is_available():
    """False: gradkit has no GPU backend."""
    return False


def device_count():
    """0: no GPU is visible to gradkit."""
    return 0
