"""Moving another help desk's data into supportkit.

:func:`import_django_helpdesk` reads a django-helpdesk database with plain SQL
(SQLite or PostgreSQL, no Django needed) and replays it through a desk's use
cases in batches; ``supportkit import django-helpdesk DATABASE_URL`` is the
command line for it. See ``docs/importing.md``.
"""

from ._django_helpdesk import ImportProblem, ImportSummary, import_django_helpdesk
from ._plan import Unmappable
from ._source import ImportSourceError

__all__ = [
    "ImportProblem",
    "ImportSourceError",
    "ImportSummary",
    "Unmappable",
    "import_django_helpdesk",
]
