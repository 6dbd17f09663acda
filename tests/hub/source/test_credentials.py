"""Credentials: the loader (file, environment), URL credentials taken out of the URL, redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.source import Credentials, SourceError, load_credentials
from hub.source.credentials import TOKEN_USERNAME, is_remote_url, split_url_credentials
from hub.source.redact import redact, redact_url

SECRET = "s3cr3t-Value-123"


def test_a_token_file_holds_the_token_alone(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text(SECRET + "\n")
    assert load_credentials(path, environ={}) == Credentials(TOKEN_USERNAME, SECRET)


def test_a_credentials_file_with_username_and_password_lines(tmp_path: Path) -> None:
    path = tmp_path / "creds"
    path.write_text(f"# deploy user\nusername: deployer\npassword: '{SECRET}'\n")
    assert load_credentials(path, environ={}) == Credentials("deployer", SECRET)
    path.write_text(f"username=oauth2\ntoken={SECRET}\n")
    assert load_credentials(path, environ={}) == Credentials("oauth2", SECRET)


@pytest.mark.parametrize(("content", "problem"), [
    ("", "is empty"),
    (f"username: me\npasword: {SECRET}\n", "unknown entry 'pasword'"),
    (f"{SECRET}\n{SECRET}\n", "expected the token alone on one line"),
    (f"password: {SECRET}\n", "a password needs a username"),
    (f"token: {SECRET}\npassword: {SECRET}\n", "not both"),
])
def test_bad_credentials_files_are_named_without_showing_the_secret(tmp_path: Path, content: str,
                                                                      problem: str) -> None:
    path = tmp_path / "creds"
    path.write_text(content)
    with pytest.raises(SourceError) as caught:
        load_credentials(path, environ={})
    assert problem in str(caught.value) and str(path) in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_missing_credentials_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot read the Git credentials file"):
        load_credentials(tmp_path / "nope", environ={})


def test_credentials_from_the_environment(tmp_path: Path) -> None:
    assert load_credentials(environ={}) is None
    assert load_credentials(environ={"FLEETLINE_GIT_TOKEN": SECRET}) == Credentials(TOKEN_USERNAME, SECRET)
    assert load_credentials(environ={"FLEETLINE_GIT_USERNAME": "u", "FLEETLINE_GIT_PASSWORD": SECRET}) == \
        Credentials("u", SECRET)
    path = tmp_path / "token"
    path.write_text(SECRET)
    assert load_credentials(environ={"FLEETLINE_GIT_CREDENTIALS_FILE": str(path)}) == \
        Credentials(TOKEN_USERNAME, SECRET)
    with pytest.raises(SourceError, match="has no password or token"):
        load_credentials(environ={"FLEETLINE_GIT_USERNAME": "u"})


def test_the_secret_never_shows_in_a_repr() -> None:
    assert SECRET not in repr(Credentials("u", SECRET)) and SECRET not in str(Credentials.from_token(SECRET))


def test_url_credentials_are_taken_out_of_the_url() -> None:
    assert split_url_credentials(f"https://deployer:{SECRET}@git.example.com/fleet.git") == (
        "https://git.example.com/fleet.git", Credentials("deployer", SECRET))
    assert split_url_credentials(f"https://{SECRET}@github.com/o/fleet.git") == (
        "https://github.com/o/fleet.git", Credentials(TOKEN_USERNAME, SECRET))
    explicit = Credentials.from_token(SECRET)
    assert split_url_credentials("https://oauth2@gitlab.example.com/fleet.git", explicit) == (
        "https://gitlab.example.com/fleet.git", Credentials("oauth2", SECRET))
    assert split_url_credentials("ssh://git@host/fleet.git") == ("ssh://git@host/fleet.git", None)
    assert split_url_credentials("/srv/fleet") == ("/srv/fleet", None)


def test_redaction_masks_url_credentials_and_known_secrets() -> None:
    assert redact_url(f"https://deployer:{SECRET}@h/x.git") == "https://deployer:***@h/x.git"
    assert redact_url(f"https://{SECRET}@github.com/x.git") == "https://***@github.com/x.git"
    assert redact_url("ssh://git@host/x.git") == "ssh://git@host/x.git"
    text = f"fatal: unable to access 'http://u:{SECRET}@h/': token {SECRET} refused"
    assert SECRET not in redact(text, [SECRET])


@pytest.mark.parametrize(("location", "remote"), [
    ("https://github.com/acme/fleet.git", True), ("ssh://git@host/fleet.git", True), ("file:///srv/fleet", True),
    ("git@github.com:acme/fleet.git", True), ("gitserver:fleet.git", True),
    ("/srv/fleet", False), ("relative/fleet", False), ("./a:b", False), ("C:/repos/fleet", False),
])
def test_urls_are_told_from_local_paths_by_gits_rule(location: str, remote: bool) -> None:
    assert is_remote_url(location) is remote
