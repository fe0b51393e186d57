"""A job's Beam options, and what Beam works out again and again while it builds a pipeline, worked out once.

Building the default recipe's pipeline took 0.41-0.51 s of a build's start here (2026-12-02), and two things
Beam repeats were 0.3 s of it:

- **Views of the options.** Every type check reads ``TypeOptions`` (``typehints.is_consistent_with``, on
  each transform applied) through ``options.view_as``, which makes a new options object each time:
  a new argparse parser, its arguments added, the flags parsed again. About 310 views a build,
  0.14-0.18 s. ``JobOptions`` makes each kind of view once. A view holds no values of its own (it reads
  and writes the options' shared ``_all_options``), so one made earlier reads what one made now would.
- **A DoFn's state and timer specs.** ``userstate.get_dofn_specs`` takes every method of a DoFn apart with
  ``inspect.signature`` to find state and timer parameters, and Beam asks it about the same DoFn
  again as it checks, applies and translates the transform: 162 calls, 5,000 signatures, 0.13-0.15 s.
  What it finds is fixed by the DoFn's methods, so it is kept per DoFn object for as long as that lives.
  That assumes a DoFn's methods are not replaced after Beam first looked at them (none of warcforge's
  are, nor Beam's own wrappers, which set theirs in ``__init__``); a DoFn Beam rejects on its first look
  is rejected on every later one, as before.

With those, the same pipeline took 0.18-0.27 s to build. The second is process-wide from the first
``JobOptions`` on: in-process and forked local workers use it too; a cluster's workers run Beam as it is.
"""

import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.transforms import userstate

View = TypeVar("View", bound=PipelineOptions)

_VIEWS = "_views_made"  # where a JobOptions keeps its views: its own __dict__, left out when it is pickled


class JobOptions(PipelineOptions):
    """``PipelineOptions`` whose ``view_as`` makes each kind of view once (see the module).

    It adds no option of its own: a parser made for it has PipelineOptions' arguments, as Beam's would."""

    def __init__(self, flags: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(flags, **kwargs)
        remember_dofn_specs()

    def view_as(self, cls: type[View]) -> View:
        views = self.__dict__.get(_VIEWS)
        if views is None:
            views = self.__dict__[_VIEWS] = {}  # not through __setattr__, which takes only option names
        view = views.get(cls)
        if view is None or view._all_options is not self._all_options:  # all_options replaced: a view anew
            view = views[cls] = super().view_as(cls)
        return view

    def _get_display_data_namespace(self) -> str:
        """Beam's own name for the options in display data (a Dataflow job's metadata shows it)."""
        return f"{PipelineOptions.__module__}.{PipelineOptions.__name__}"

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())
        state.pop(_VIEWS, None)  # views are remade on demand; a copy or an unpickled one makes its own
        return state


_specs_lock = threading.Lock()
_beams_get_dofn_specs: Callable | None = None


def remember_dofn_specs() -> None:
    """From now on, in this process, Beam works out a DoFn object's state and timer specs once (see the module)."""
    global _beams_get_dofn_specs
    with _specs_lock:
        if _beams_get_dofn_specs is not None:
            return
        _beams_get_dofn_specs = userstate.get_dofn_specs
        userstate.get_dofn_specs = _remembered_specs(_beams_get_dofn_specs)


def _remembered_specs(work_out: Callable) -> Callable:
    # By identity, not equality: two equal DoFns may still differ in their methods' parameters.
    found: dict[int, tuple[weakref.ref, tuple[set, set]]] = {}

    def get_dofn_specs(dofn: object) -> tuple[set, set]:
        entry = found.get(id(dofn))
        if entry is not None and entry[0]() is dofn:
            state_specs, timer_specs = entry[1]
        else:
            state_specs, timer_specs = work_out(dofn)  # a DoFn Beam rejects raises here every time, as before
            try:  # forgotten as the DoFn goes, before its id can be another object's
                alive = weakref.ref(dofn, lambda _, key=id(dofn): found.pop(key, None))
            except TypeError:  # no weak references to it: worked out every time, as Beam does
                pass
            else:
                found[id(dofn)] = (alive, (state_specs, timer_specs))
        return set(state_specs), set(timer_specs)  # a caller's changes stay its own

    get_dofn_specs.__doc__ = work_out.__doc__
    get_dofn_specs.known = found  # what is remembered, by id: a test sees Beam's calls come here
    return get_dofn_specs
