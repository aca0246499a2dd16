"""A keyring backend that keeps passwords in this process's memory.

Loaded the way keyring loads any backend, through ``PYTHON_KEYRING_BACKEND``
(``tests.connector.memory_keyring.MemoryKeyring``), so the login tests run the
real keyring code path on a machine with no OS keyring.
"""

from typing import ClassVar

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    priority = 1

    store: ClassVar[dict[tuple[str, str], str]] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError(username)
