"""chronos-compile-bench: is torch.compile worth it for Chronos-2 on this machine, and did an upgrade make it worse?"""

from __future__ import annotations

__version__ = "0.7.0"

__all__ = ["__version__"]
