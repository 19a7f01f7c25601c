"""Real mail servers on loopback for the email channel's tests.

:func:`start_dovecot` runs Debian's dovecot (IMAP only, no SSL, plaintext
auth, a passwd-file with one user, Maildir in a temp dir) as the current
user; :func:`start_smtp` runs an aiosmtpd server that delivers each message
into the Maildir of the user named by the recipient's local part (the first
user, the desk, for anyone else), so mail sent over SMTP can be read back
over IMAP, by the desk or by a customer with a mailbox of their own. Both
bind 127.0.0.1 on free ports and stop when told to.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import attrs

DOVECOT = shutil.which("dovecot") or (
    "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@attrs.define
class Dovecot:
    root: Path
    port: int
    user: str
    password: str
    uid: int
    gid: int
    process: subprocess.Popen[bytes] | None = None
    users: dict[str, str] = attrs.Factory(dict)

    @property
    def maildir(self) -> Path:
        return self.maildir_of(self.user)

    def maildir_of(self, user: str) -> Path:
        return self.root / "mail" / user

    def deliver(self, raw: bytes, user: str | None = None) -> Path:
        """Put *raw* into *user*'s INBOX (default: the first user) the way an MDA does."""
        maildir = self.maildir_of(user or self.user)
        for path in (maildir, *(maildir / sub for sub in ("tmp", "new", "cur"))):
            if not path.exists():
                path.mkdir(parents=True, exist_ok=True)
                os.chown(path, self.uid, self.gid)
        name = f"{time.time_ns()}.P{os.getpid()}Q{os.urandom(4).hex()}.localhost"
        tmp = maildir / "tmp" / name
        tmp.write_bytes(raw)
        os.chown(tmp, self.uid, self.gid)
        final = maildir / "new" / name
        tmp.rename(final)
        return final

    def reset_mailbox(self) -> None:
        """Delete the INBOX; dovecot gives the recreated one a new UIDVALIDITY.

        Dovecot takes UIDVALIDITY from the clock in seconds: wait past the
        second the old one was created in.
        """
        shutil.rmtree(self.maildir, ignore_errors=True)
        time.sleep(1.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
            self.process = None


def _existing_user(*names: str) -> str:
    for name in names:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name).pw_name
    raise RuntimeError(f"none of the users {names} exists to run dovecot's processes")


def start_dovecot(
    root: Path,
    user: str = "desk",
    password: str = "secret",
    others: dict[str, str] | None = None,
) -> Dovecot:
    """Dovecot with *user* (the desk) and the *others* (name → password) as mailboxes."""
    if DOVECOT is None:
        raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd)")
    me = pwd.getpwuid(os.getuid())
    if me.pw_uid == 0:  # dovecot refuses to run its login processes as root
        # and a passwd-file user may not be uid 0: mail is owned by dovecot's user
        login_user = _existing_user("dovenull", "nobody")
        internal_user = _existing_user("dovecot", "nobody")
        mail_owner = pwd.getpwnam(internal_user)
        root.chmod(0o755)
    else:
        login_user = internal_user = me.pw_name
        mail_owner = me
    port = free_port()
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    users = {user: password, **(others or {})}
    (root / "passwd").write_text(
        "".join(
            f"{name}:{{PLAIN}}{secret}:{mail_owner.pw_uid}:{mail_owner.pw_gid}::"
            f"{root / 'home' / name}::\n"
            for name, secret in users.items()
        )
    )
    conf = root / "dovecot.conf"
    conf.write_text(
        f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal_user}
default_login_user = {login_user}
first_valid_uid = {min(mail_owner.pw_uid, 100)}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
service auth {{
  unix_listener auth-userdb {{
    mode = 0666
  }}
}}
"""
    )
    for sub in ("mail", "home"):
        os.chown(root / sub, mail_owner.pw_uid, mail_owner.pw_gid)
    server = Dovecot(
        root=root,
        port=port,
        user=user,
        password=password,
        uid=mail_owner.pw_uid,
        gid=mail_owner.pw_gid,
        users=users,
    )
    server.process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_port(port)
    except RuntimeError:
        server.stop()
        log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
        raise RuntimeError(f"dovecot did not start on port {port}:\n{log[-2000:]}") from None
    return server


@attrs.define
class SmtpServer:
    port: int
    controller: object
    received: list[bytes] = attrs.Factory(list)
    #: (MAIL FROM, RCPT TOs) of each accepted message
    envelopes: list[tuple[str, list[str]]] = attrs.Factory(list)

    def stop(self) -> None:
        self.controller.stop()  # type: ignore[attr-defined]


class _MaildirHandler:
    def __init__(
        self,
        dovecot: Dovecot,
        received: list[bytes],
        reject: dict[str, str],
        envelopes: list[tuple[str, list[str]]],
    ) -> None:
        self.dovecot = dovecot
        self.received = received
        self.reject = reject
        self.envelopes = envelopes

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address in self.reject:
            return self.reject[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        self.received.append(raw)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        boxes = []
        for rcpt in envelope.rcpt_tos:
            local = rcpt.split("@", 1)[0].lower()
            box = local if local in self.dovecot.users else self.dovecot.user
            if box not in boxes:
                boxes.append(box)
        for box in boxes:
            self.dovecot.deliver(raw, box)
        return "250 Message accepted for delivery"


def start_smtp(
    dovecot: Dovecot,
    reject: dict[str, str] | None = None,
    *,
    port: int | None = None,
    data_size_limit: int = 33_554_432,
) -> SmtpServer:
    """An SMTP server on loopback delivering into *dovecot*'s Maildirs.

    *reject* maps a recipient address to the SMTP reply to refuse it with
    (e.g. ``"550 5.1.1 no such user"`` or ``"451 4.3.0 try later"``).
    *port* lets a test start a server where a channel already points
    (a server that was down comes up).
    """
    from aiosmtpd.controller import Controller

    received: list[bytes] = []
    envelopes: list[tuple[str, list[str]]] = []
    port = port or free_port()
    controller = Controller(
        _MaildirHandler(dovecot, received, reject or {}, envelopes),
        hostname="127.0.0.1",
        port=port,
        decode_data=False,
        data_size_limit=data_size_limit,
    )
    controller.start()
    return SmtpServer(port=port, controller=controller, received=received, envelopes=envelopes)


@contextlib.contextmanager
def running_servers(
    others: dict[str, str] | None = None,
) -> Iterator[tuple[Dovecot, SmtpServer]]:
    """Dovecot + SMTP in a fresh world-traversable temp dir, removed afterwards.

    *others* adds mailboxes (name → password) besides the desk's.
    """
    root = Path(tempfile.mkdtemp(prefix="supportkit-mail-"))
    try:
        with _servers(root, others) as servers:
            yield servers
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def _servers(root: Path, others: dict[str, str] | None) -> Iterator[tuple[Dovecot, SmtpServer]]:
    dovecot = start_dovecot(root, others=others)
    try:
        smtp = start_smtp(dovecot)
        try:
            yield dovecot, smtp
        finally:
            smtp.stop()
    finally:
        dovecot.stop()
