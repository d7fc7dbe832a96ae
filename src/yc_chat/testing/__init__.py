"""Port contract suites, for a host to run against its own adapters in its own tests.

```python
import pytest_asyncio
from yc_chat.testing import DirectoryContract

class TestMyDirectory(DirectoryContract):
    @pytest_asyncio.fixture
    async def new_directory(self):
        async with open_my_directory() as directory:  # empty, and a DirectoryWriter
            yield directory
```

Needs pytest and pytest-asyncio (`pip install 'yc-chat[testing]'`); yc-chat runs the same
suites against its own adapters (tests/contract/).
"""

from yc_chat.testing.appointments import AppointmentStoreContract
from yc_chat.testing.directory import DirectoryContract

__all__ = ["AppointmentStoreContract", "DirectoryContract"]
