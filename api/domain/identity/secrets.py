"""Password and client-secret hashing (Argon2id) and opaque token generation."""

import asyncio
import hashlib
import os
import secrets
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2-cffi's defaults: Argon2id, RFC 9106 low-memory profile
# Verified against when the account does not exist, so both answers take as long.
_DUMMY_HASH = _hasher.hash("no such account")

# Argon2 costs tens of milliseconds of CPU and 64 MiB per call: on the event loop it stalls
# every request. It runs in threads of its own (the C code releases the GIL), and only this
# many at once (each already runs its 4 lanes in parallel): a flood of sign-ins queues here
# and leaves the loop, the other threads and the memory to everyone else.
HASH_THREADS = max(1, (os.cpu_count() or 2) // 2)
_pool = ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="argon2")


def _verify(stored_hash: str | None, secret: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, secret) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def hash_secret(secret: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_pool, _hasher.hash, secret)


async def verify_secret(stored_hash: str | None, secret: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(_pool, _verify, stored_hash, secret)


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def token_digest(token: str) -> str:
    """Refresh tokens are stored as digests: a database leak yields nothing usable."""
    return hashlib.sha256(token.encode()).hexdigest()
