"""supportkit-mariadb: supportkit's storage on MariaDB or MySQL.

Install it beside supportkit and open a desk on a URL::

    from supportkit import SupportDesk
    from supportkit.storage import open_storage

    desk = SupportDesk(open_storage("mariadb://root@127.0.0.1:3306/support"))

The package registers ``mariadb`` and ``mysql`` in the ``supportkit.storage``
entry-point group, and uses only supportkit's public names: the storage
ports, the shared SQL mixins of ``supportkit.storage.sql``, the errors.
"""

from ._schema import SCHEMA_VERSION
from ._storage import MariaDBStorage, MariaDBUnitOfWork, connect_args

__all__ = ["SCHEMA_VERSION", "MariaDBStorage", "MariaDBUnitOfWork", "connect_args"]
