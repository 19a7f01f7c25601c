"""The worker's settings: TOML, environment variables over it, and bad settings refused
with a WorkerConfigError that says what to write (``supportkit worker`` exits 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportkit import ConfigurationError, SupportKitError
from supportkit.cli import main
from supportkit.worker import (
    ENVIRONMENT,
    MailboxSettings,
    RelaySettings,
    Worker,
    WorkerConfigError,
    load_config,
)

FULL = """
storage_url = "postgresql://desk:S3cret@db.example/support"
desk = "myapp.support:build_desk"

[timers]
interval = "2s"
batch = 100

[relay]
url = "amqp://guest:guest@127.0.0.1:5672/%2F"
interval = 0.5
lease = "45s"

[[mailboxes]]
url = "imaps://desk:p%40ss@mail.example.com/INBOX"
address = "Support <support@example.com>"
interval = "1m"

[[mailboxes]]
url = "imap://billing:secret@mail.example.com:143/Billing"
channel = "billing-mail"

[reprocess]
interval = "5m"
webhook = false

[auto_close]
after = "7d"
interval = "10m"
reason = "closed a week after resolution"

[log]
level = "DEBUG"
"""


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "worker.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_toml_file_sets_every_loop(tmp_path: Path) -> None:
    config = load_config(_toml(tmp_path, FULL), environ={})
    assert config.storage_url == "postgresql://desk:S3cret@db.example/support"
    assert config.desk == "myapp.support:build_desk"
    assert (config.timers.enabled, config.timers.interval, config.timers.batch) == (True, 2, 100)
    assert config.relay == RelaySettings(
        "amqp://guest:guest@127.0.0.1:5672/%2F", interval=0.5, batch=500, lease=45
    )
    assert config.mailboxes == (
        MailboxSettings(
            "imaps://desk:p%40ss@mail.example.com/INBOX",
            address="Support <support@example.com>",
            channel="email",
            interval=60,
        ),
        MailboxSettings(
            "imap://billing:secret@mail.example.com:143/Billing", channel="billing-mail"
        ),
    )
    assert (config.reprocess.interval, config.reprocess.webhook) == (300, False)
    assert config.auto_close.after == 7 * 86400
    assert config.auto_close.interval == 600
    assert config.auto_close.reason == "closed a week after resolution"
    assert config.log_level == "debug"
    assert "S3cret" not in repr(config)
    assert "guest:guest" not in repr(config)


def test_defaults_run_timers_and_reprocessing_only() -> None:
    config = load_config(environ={"SUPPORTKIT_STORAGE_URL": "sqlite:///desk.db"})
    assert config.timers.enabled
    assert config.reprocess.enabled
    assert not config.relay.enabled
    assert not config.auto_close.enabled
    assert config.mailboxes == ()


def test_environment_variables_win_over_the_file(tmp_path: Path) -> None:
    env = {
        "SUPPORTKIT_STORAGE_URL": "postgresql://other@db/support",
        "SUPPORTKIT_TIMERS": "off",
        "SUPPORTKIT_RELAY_URL": "redis://127.0.0.1:6379/0",
        "SUPPORTKIT_IMAP_URL": "imap://a:x@h/INBOX imap://b:y@h/INBOX",
        "SUPPORTKIT_IMAP_INTERVAL": "15s",
        "SUPPORTKIT_AUTO_CLOSE_AFTER": "off",
        "SUPPORTKIT_REPROCESS_MAIL_CHANNELS": "email, billing-mail",
        "SUPPORTKIT_LOG_LEVEL": "warning",
        "SUPPORTKIT_TEST_PG": "not a worker setting",  # other SUPPORTKIT_ variables are left alone
    }
    config = load_config(_toml(tmp_path, FULL), environ=env)
    assert config.storage_url == "postgresql://other@db/support"
    assert config.timers.enabled is False
    assert config.relay.url == "redis://127.0.0.1:6379/0"
    assert config.relay.lease == 45  # the file's, where the environment says nothing
    assert [m.url for m in config.mailboxes] == ["imap://a:x@h/INBOX", "imap://b:y@h/INBOX"]
    assert {m.interval for m in config.mailboxes} == {15}
    assert not config.auto_close.enabled
    assert config.reprocess.mail_channels == ("email", "billing-mail")
    assert config.log_level == "warning"


def test_every_environment_variable_names_a_setting() -> None:
    for name, (section, key) in ENVIRONMENT.items():
        assert name.startswith("SUPPORTKIT_")
        value = {"enabled": "on", "webhook": "on", "phone": "off", "mail_channels": "email"}.get(
            key, "1"
        )
        if key in ("url", "storage_url"):
            value = "imap://u:p@h/INBOX" if section == "mailboxes" else "sqlite:///x.db"
        elif key in ("desk",):
            value = "m:f"
        elif key in ("address",):
            continue  # needs SUPPORTKIT_IMAP_URL, checked below
        elif key == "level":
            value = "info"
        elif key in ("actor", "reason", "channel"):
            value = "x"
        env = {"SUPPORTKIT_STORAGE_URL": "sqlite:///x.db", name: value}
        if section == "mailboxes" and key != "url":
            env["SUPPORTKIT_IMAP_URL"] = "imap://u:p@h/INBOX"
        load_config(environ=env)  # reads without error


@pytest.mark.parametrize(
    ("text", "env", "says"),
    [
        ("", {}, "needs the desk's database"),
        (
            'storage_url = "sqlite:///x.db"\nstorage = 1\n',
            {},
            "unknown worker setting(s) ['storage']",
        ),
        ('storage_url = "sqlite:///x.db"\n[timers]\nevery = "5s"\n', {}, "[timers] has unknown"),
        ('storage_url = "sqlite:///x.db"\n[timers]\ninterval = "soon"\n', {}, "[timers] interval"),
        ('storage_url = "sqlite:///x.db"\n[timers]\ninterval = "0s"\n', {}, "more than zero"),
        ('storage_url = "sqlite:///x.db"\n[timers]\nbatch = 0\n', {}, "1 or more"),
        ('storage_url = "sqlite:///x.db"\n[timers]\nenabled = "maybe"\n', {}, "true or false"),
        ('storage_url = "sqlite:///x.db"\ntimers = 5\n', {}, "must be a table"),
        ('storage_url = "sqlite:///x.db"\n[auto_close]\nafter = -1\n', {}, "more than zero"),
        ('storage_url = "sqlite:///x.db"\n[[mailboxes]]\naddress = "a@b"\n', {}, "has no url"),
        (
            'storage_url = "sqlite:///x.db"\n[[mailboxes]]\nurl = "http://h/"\n',
            {},
            "IMAP URL",
        ),
        ('storage_url = "sqlite:///x.db"\ndesk = "no_colon"\n', {}, "does not name a factory"),
        ('storage_url = "sqlite:///x.db"\n[log]\nlevel = "loud"\n', {}, "log level 'loud'"),
        ("storage_url = [", {}, "is not valid TOML"),
        (
            "",
            {"SUPPORTKIT_STORAGE_URL": "x", "SUPPORTKIT_RELAY_BATCH": "lots"},
            "SUPPORTKIT_RELAY_BATCH",
        ),
        ("", {"SUPPORTKIT_STORAGE_URL": "x", "SUPPORTKIT_IMAP_ADDRESS": "a@b"}, "without"),
    ],
)
def test_bad_settings_say_what_to_write(
    tmp_path: Path, text: str, env: dict[str, str], says: str
) -> None:
    with pytest.raises(WorkerConfigError) as caught:
        load_config(_toml(tmp_path, text), environ=env)
    assert says in str(caught.value)
    assert isinstance(caught.value, ConfigurationError | SupportKitError)


def test_a_password_in_a_bad_setting_is_not_repeated(tmp_path: Path) -> None:
    text = 'storage_url = "x"\n[relay]\nurl = "amqp://u:Hunter2@h/"\nlease = "a while"\n'
    with pytest.raises(WorkerConfigError) as caught:
        load_config(_toml(tmp_path, text), environ={})
    assert "[relay] lease" in str(caught.value)
    bad_url = 'storage_url = "x"\n[[mailboxes]]\nurl = "imap://u:Hunter2@h:bad/"\n'
    with pytest.raises(WorkerConfigError) as caught:
        load_config(_toml(tmp_path, bad_url), environ={})
    assert "Hunter2" not in str(caught.value)


def test_a_missing_file_is_named() -> None:
    with pytest.raises(WorkerConfigError, match=r"no worker configuration at 'nowhere\.toml'"):
        load_config("nowhere.toml", environ={})


def test_a_factory_that_cannot_load_is_a_config_error(tmp_path: Path) -> None:
    config = load_config(
        environ={"SUPPORTKIT_STORAGE_URL": "memory://", "SUPPORTKIT_DESK": "no_such_mod:build"}
    )
    with pytest.raises(WorkerConfigError, match="cannot load the desk factory 'no_such_mod:build'"):
        Worker(config)
    config = load_config(
        environ={"SUPPORTKIT_STORAGE_URL": "memory://", "SUPPORTKIT_DESK": "builtins:str"}
    )
    with pytest.raises(WorkerConfigError, match="returned str, not a SupportDesk"):
        Worker(config)
    config = load_config(
        environ={"SUPPORTKIT_STORAGE_URL": "memory://", "SUPPORTKIT_DESK": "os.path:join"}
    )
    with pytest.raises(WorkerConfigError, match=r"failed when called as factory\(storage\)"):
        Worker(config)


def test_the_command_exits_2_with_the_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    path = _toml(tmp_path, 'storage_url = "sqlite:///x.db"\n[timers]\ninterval = "soon"\n')
    assert main(["worker", "--once", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("supportkit worker: ")
    assert "[timers] interval = 'soon': cannot read duration" in err
    monkeypatch.setenv("SUPPORTKIT_STORAGE_URL", "nosuchscheme://x")
    assert main(["worker", "--once"]) == 2
    assert "no storage backend named 'nosuchscheme'" in capsys.readouterr().err


def test_the_docs_name_every_environment_variable() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "production.md").read_text()
    missing = [name for name in ENVIRONMENT if f"`{name}`" not in text]
    assert not missing, f"docs/production.md does not document {missing}"
