"""The pure domain: entities, values, events, lifecycles and errors."""

from ._call import *  # noqa: F403
from ._call import __all__ as _call_all
from ._definitions import *  # noqa: F403
from ._definitions import __all__ as _definitions_all
from ._errors import *  # noqa: F403
from ._errors import __all__ as _errors_all
from ._events import *  # noqa: F403
from ._events import __all__ as _events_all
from ._language import detect_language
from ._lifecycle import *  # noqa: F403
from ._lifecycle import __all__ as _lifecycle_all
from ._model import *  # noqa: F403
from ._model import __all__ as _model_all
from ._service_events import *  # noqa: F403
from ._service_events import __all__ as _service_events_all

__all__ = [
    "detect_language",
    *_call_all,
    *_definitions_all,
    *_errors_all,
    *_events_all,
    *_lifecycle_all,
    *_model_all,
    *_service_events_all,
]
