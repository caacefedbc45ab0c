from __future__ import annotations

import email
import hashlib
import hmac
import json
import logging

import httpx
import pytest
from pydantic import SecretStr

from healops.config.itsm import NotificationConfig
from healops.itsm.notify import (
    FakeNotifier,
    Notification,
    PageGate,
    PagerDutyNotifier,
    Router,
    SlackNotifier,
    SmtpNotifier,
    WebhookNotifier,
    build_notifiers,
    verify_signature,
)

from ._servers import free_port, http_sink, smtp_server

HOSTILE = "api down {{ 7*7 }} ${HOME} {% raw %} <!channel> <http://evil|click>"


def _n(**kw: object) -> Notification:
    base: dict[str, object] = dict(dedup_key="healops:I1:escalation", action="trigger",
                                   title=HOSTILE, incident_id="I1", service="api",
                                   ts=1_767_225_600.0, priority="P1", severity="critical",
                                   lines=("hypothesis: bad_deploy on api (90%)",),
                                   recipients=("ana@example.org",))
    base.update(kw)
    return Notification(**base)  # type: ignore[arg-type]


def test_webhook_is_signed_and_the_receiver_can_verify_it() -> None:
    with http_sink(200) as sink, httpx.Client() as client:
        d = WebhookNotifier(sink.url + "/hook", SecretStr("s3cret"), client=client).notify(_n())
    assert d.ok
    req = sink.requests[0]
    ts, sig = req.headers["X-Healops-Timestamp"], req.headers["X-Healops-Signature"]
    expected = hmac.new(b"s3cret", ts.encode() + b"." + req.body, hashlib.sha256).hexdigest()
    assert sig == "sha256=" + expected
    assert verify_signature(b"s3cret", ts, req.body, sig, now=1_767_225_610.0)
    assert not verify_signature(b"wrong", ts, req.body, sig, now=1_767_225_610.0)
    assert not verify_signature(b"s3cret", ts, req.body + b" ", sig, now=1_767_225_610.0)
    body = json.loads(req.body)
    assert body["title"] == HOSTILE  # data, never rendered as a template


def test_slack_message_escapes_control_sequences_and_keeps_braces_literal() -> None:
    with http_sink(200) as sink, httpx.Client() as client:
        assert SlackNotifier(SecretStr(sink.url + "/T/B/X"), client=client).notify(_n()).ok
    msg = json.loads(sink.requests[0].body)
    assert sink.requests[0].path == "/T/B/X"
    assert "<!channel>" not in json.dumps(msg) and "&lt;!channel&gt;" in msg["text"]
    assert "{{ 7*7 }}" in msg["text"] and "49" not in msg["text"]
    assert any(b.get("fields") for b in msg["blocks"])


def test_pagerduty_events_v2_trigger_then_resolve_share_the_dedup_key() -> None:
    with http_sink(202) as sink, httpx.Client() as client:
        pd = PagerDutyNotifier(SecretStr("R" * 32), client=client, url=sink.url + "/v2/enqueue")
        assert pd.notify(_n()).ok
        assert pd.notify(_n(action="resolve")).ok
    trig, res = (json.loads(r.body) for r in sink.requests)
    assert trig["event_action"] == "trigger" and res["event_action"] == "resolve"
    assert trig["dedup_key"] == res["dedup_key"] == "healops:I1:escalation"
    assert trig["routing_key"] == "R" * 32
    assert trig["payload"]["severity"] == "critical"
    assert trig["payload"]["source"] == "healops" and trig["payload"]["component"] == "api"
    assert "payload" not in res


def test_server_errors_are_recoverable_client_errors_are_not() -> None:
    with httpx.Client() as client:
        with http_sink(503) as sink:
            d = PagerDutyNotifier(SecretStr("k"), client=client, url=sink.url).notify(_n())
            assert not d.ok and d.recoverable
        with http_sink(400) as sink:
            d = PagerDutyNotifier(SecretStr("k"), client=client, url=sink.url).notify(_n())
            assert not d.ok and not d.recoverable


def test_email_goes_through_a_real_smtp_server() -> None:
    with smtp_server() as (port, got):
        n = SmtpNotifier(host="127.0.0.1", port=port, sender="healops@example.org",
                         to=["ops@example.org"])
        d = n.notify(_n(title="api down\r\nBcc: victim@example.org"))
    assert d.ok, d
    assert len(got) == 1
    assert sorted(got[0].rcpt_tos) == ["ana@example.org", "ops@example.org"]
    msg = email.message_from_bytes(got[0].content)
    assert msg["Bcc"] is None  # a newline in a title cannot inject a header
    assert "api down" in msg["Subject"] and "[healops P1]" in msg["Subject"]
    assert "bad_deploy on api" in msg.get_payload()


def test_secrets_are_never_logged_nor_shown(caplog: pytest.LogCaptureFixture) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: the post fails
    secret_url = dead + "/services/T000/B000/SLACKSECRET"
    with httpx.Client() as client, caplog.at_level(logging.DEBUG):
        notifiers = [SlackNotifier(SecretStr(secret_url), client=client),
                     WebhookNotifier(dead, SecretStr("HOOKSECRET"), client=client),
                     PagerDutyNotifier(SecretStr("PDSECRET"), client=client, url=dead)]
        for x in notifiers:
            d = x.notify(_n())
            assert not d.ok and d.recoverable
            assert "SECRET" not in repr(x)
    assert caplog.records  # failures are logged ...
    assert "SECRET" not in caplog.text  # ... without the credentials


def test_gate_deduplicates_and_rate_limits_but_lets_resolutions_through() -> None:
    fake = FakeNotifier()
    router = Router({"pager": fake}, PageGate(dedup_window_s=600, rate_count=2,
                                              rate_window_s=3600))
    assert router.send(_n(), now=0)["pager"].ok
    assert router.send(_n(), now=10)["pager"].detail == "duplicate"
    assert router.send(_n(dedup_key="b"), now=20)["pager"].ok
    assert router.send(_n(dedup_key="c"), now=30)["pager"].detail == "rate limited"
    assert router.send(_n(dedup_key="c", action="resolve"), now=40)["pager"].ok
    assert router.send(_n(level=1), now=50)["pager"].detail == "rate limited"
    assert [x.dedup_key for x in fake.sent] == ["healops:I1:escalation", "b", "c"]


def test_channels_are_built_from_config() -> None:
    cfg = NotificationConfig.model_validate({"channels": [
        {"type": "webhook", "name": "hook", "url": "http://x", "secret": "s"},
        {"type": "slack", "name": "chat", "url": "http://y"},
        {"type": "email", "name": "mail", "to": ["a@b"]},
        {"type": "pagerduty", "name": "pd", "routing_key": "k"},
    ]})
    with httpx.Client() as client:
        built = build_notifiers(cfg, client=client)
    assert {k: type(v).__name__ for k, v in built.items()} == {
        "hook": "WebhookNotifier", "chat": "SlackNotifier", "mail": "SmtpNotifier",
        "pd": "PagerDutyNotifier"}
    assert "**********" in repr(cfg.channels[0])  # pydantic hides the secret too


def test_a_recoverable_failure_is_retried_with_backoff_until_it_arrives() -> None:
    with http_sink(503) as sink, httpx.Client() as client:
        router = Router({"pd": PagerDutyNotifier(SecretStr("k"), client=client, url=sink.url)},
                        PageGate(dedup_window_s=600, rate_count=10, rate_window_s=600),
                        max_attempts=3, backoff_s=30)
        assert not router.send(_n(), now=0)["pd"].ok
        assert router.flush(29) == {}  # not due yet
        assert not router.flush(30)[("pd", "healops:I1:escalation")].ok  # attempt 2
        sink.status = 202
        assert router.flush(89) == {}  # the next backoff doubles: due at 90
        assert router.flush(90)[("pd", "healops:I1:escalation")].ok  # attempt 3 arrives
        assert router.flush(10_000) == {} and len(sink.requests) == 3


def test_retries_stop_after_max_attempts_and_client_errors_are_not_retried() -> None:
    with http_sink(500) as sink, httpx.Client() as client:
        router = Router({"pd": PagerDutyNotifier(SecretStr("k"), client=client, url=sink.url)},
                        PageGate(dedup_window_s=600, rate_count=10, rate_window_s=600),
                        max_attempts=2, backoff_s=1)
        router.send(_n(), now=0)
        router.flush(100)
        router.flush(1000)
        assert len(sink.requests) == 2
        sink.status = 400
        router.send(_n(dedup_key="other"), now=2000)
        router.flush(9999)
        assert len(sink.requests) == 3


def test_email_with_login_sends_the_password_only_to_the_server(
        caplog: pytest.LogCaptureFixture) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    seen: list[tuple[str, str]] = []
    got: list[bytes] = []

    def auth(server: object, session: object, envelope: object, mechanism: str,
             data: object) -> AuthResult:
        assert isinstance(data, LoginPassword)
        seen.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=data.password == b"SMTPSECRET", handled=False)

    class Handler:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
            got.append(envelope.content)  # type: ignore[attr-defined]
            return "250 OK"

    port = free_port()
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port, authenticator=auth,
                     auth_require_tls=False)
    ctl.start()
    try:
        with caplog.at_level(logging.DEBUG):
            ok = SmtpNotifier(host="127.0.0.1", port=port, sender="h@example.org",
                              username="healops", password=SecretStr("SMTPSECRET")).notify(_n())
            bad = SmtpNotifier(host="127.0.0.1", port=port, sender="h@example.org",
                               username="healops", password=SecretStr("WRONGSECRET")).notify(_n())
    finally:
        ctl.stop()
    assert ok.ok and len(got) == 1
    assert not bad.ok and not bad.recoverable  # 535: a wrong password is not retried
    # smtplib tries each mechanism the server offers (PLAIN, then LOGIN) before giving up.
    assert seen[0] == ("healops", "SMTPSECRET")
    assert set(seen[1:]) == {("healops", "WRONGSECRET")}
    assert "SECRET" not in caplog.text
