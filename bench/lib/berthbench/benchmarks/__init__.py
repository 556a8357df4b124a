"""The benchmarks, by the name `bench/run NAME` selects them with.  A new
benchmark is a module here with a Benchmark subclass, added to BENCHMARKS.
"""

from .cli import CliCost
from .containers import ContainerExec, ContainerIdle, ContainerRun, ContainerRunApi
from .images import ImageLoad, ImageSave
from .runtime import RuntimeRun
from .scale import ApiScale, Density

BENCHMARKS = {cls.name: cls for cls in (RuntimeRun, ImageLoad, ImageSave, ContainerRun,
                                        ContainerRunApi, ContainerExec, ContainerIdle,
                                        Density, ApiScale, CliCost)}
